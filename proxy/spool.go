package proxy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// spooled is a request body saved to an unlinked temp file so that it has
// a length.
type spooled struct {
	f    *os.File
	size int64
}

func (s *spooled) Read(b []byte) (int, error) { return s.f.Read(b) }
func (s *spooled) Close() error               { return s.f.Close() }

// spool copies body into a temp file of at most limit bytes. On error it
// also returns the status to answer: 413 when the body is larger than
// limit, 400 when the client's body broke off, 500 when the file failed.
func spool(body io.Reader, limit int64, dir string) (*spooled, int, error) {
	f, err := os.CreateTemp(dir, "gopaste-body-*")
	if err != nil {
		return nil, http.StatusInternalServerError, fmt.Errorf("spool: %w", err)
	}
	os.Remove(f.Name()) // the open file lives on; nothing to clean up later
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	switch {
	case err != nil:
		f.Close()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("spool: %w", err)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("spool: read body: %w", err)
	case n > limit:
		f.Close()
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("spool: body exceeds max_body_spool (%d bytes)", limit)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, http.StatusInternalServerError, fmt.Errorf("spool: %w", err)
	}
	return &spooled{f: f, size: n}, 0, nil
}
