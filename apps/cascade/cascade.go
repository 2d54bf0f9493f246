// Package cascade is the cascade composite (Paste's egg:Paste#cascade):
// it tries apps in order and answers with the first whose status is not
// one it was told to catch (404 by default). The request body is kept so
// each app reads it whole. A request whose path is not clean is redirected
// to the clean path before any app is tried ([mount.Canonical]).
//
// A static app cascaded before an application gives WSGI Utils' static
// overlay: files where they exist, the application everywhere else.
package cascade

import (
	"bytes"
	"io"
	"net/http"
	"os"

	"github.com/gopaste/gopaste/mount"
)

// Cascade tries Apps in order. It is safe for concurrent use.
type Cascade struct {
	Apps  []http.Handler
	Catch []int // statuses that fall through; nil means 404
	// MemBody is how much of a request body is kept in memory before it
	// is spooled to a temp file; zero means 1 MiB.
	MemBody int64
}

func (c *Cascade) catches(code int) bool {
	if c.Catch == nil {
		return code == http.StatusNotFound
	}
	for _, k := range c.Catch {
		if k == code {
			return true
		}
	}
	return false
}

func (c *Cascade) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !mount.Canonical(w, r) {
		return
	}
	if len(c.Apps) == 0 {
		http.NotFound(w, r)
		return
	}
	replay, cleanup, err := c.replayable(r)
	if err != nil {
		http.Error(w, "400 Bad Request: reading request body", http.StatusBadRequest)
		return
	}
	defer cleanup()
	last := len(c.Apps) - 1
	for i, app := range c.Apps {
		r2 := r
		if replay != nil {
			r2 = r.Clone(r.Context())
			r2.Body = replay()
		}
		if i == last {
			app.ServeHTTP(w, r2)
			return
		}
		tw := &tryWriter{w: w, catch: c.catches}
		app.ServeHTTP(tw, r2)
		if !tw.fellThrough {
			if !tw.wroteHeader {
				w.WriteHeader(http.StatusOK)
			}
			return
		}
	}
}

// replayable returns a function giving a fresh reader over r's body for
// each try, or nil when there is no body.
func (c *Cascade) replayable(r *http.Request) (func() io.ReadCloser, func(), error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, func() {}, nil
	}
	max := c.MemBody
	if max <= 0 {
		max = 1 << 20
	}
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, r.Body, max+1)
	if err != nil && err != io.EOF {
		return nil, func() {}, err
	}
	if n <= max {
		b := buf.Bytes()
		return func() io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }, func() {}, nil
	}
	f, err := os.CreateTemp("", "gopaste-cascade-*")
	if err != nil {
		return nil, func() {}, err
	}
	os.Remove(f.Name()) // the open file lives on until closed
	if _, err := io.Copy(f, io.MultiReader(&buf, r.Body)); err != nil {
		f.Close()
		return nil, func() {}, err
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	return func() io.ReadCloser {
		return io.NopCloser(io.NewSectionReader(f, 0, size))
	}, func() { f.Close() }, nil
}

// tryWriter passes a response through unless its status is caught, in
// which case the response is dropped and the next app is tried.
type tryWriter struct {
	w           http.ResponseWriter
	catch       func(int) bool
	hdr         http.Header
	wroteHeader bool
	fellThrough bool
}

func (t *tryWriter) Header() http.Header {
	if t.hdr == nil {
		t.hdr = http.Header{}
	}
	return t.hdr
}

func (t *tryWriter) WriteHeader(code int) {
	if t.wroteHeader {
		return
	}
	if code >= 100 && code < 200 {
		return
	}
	t.wroteHeader = true
	if t.catch(code) {
		t.fellThrough = true
		return
	}
	dst := t.w.Header()
	for k, v := range t.hdr {
		dst[k] = v
	}
	t.w.WriteHeader(code)
}

func (t *tryWriter) Write(p []byte) (int, error) {
	if !t.wroteHeader {
		t.WriteHeader(http.StatusOK)
	}
	if t.fellThrough {
		return len(p), nil
	}
	return t.w.Write(p)
}

// Unwrap gives http.ResponseController the real writer (Flush, deadlines).
func (t *tryWriter) Unwrap() http.ResponseWriter { return t.w }

func (t *tryWriter) Flush() {
	if t.fellThrough {
		return
	}
	if !t.wroteHeader {
		t.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(t.w).Flush()
}
