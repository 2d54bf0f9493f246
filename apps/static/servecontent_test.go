package static

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"
)

// TestCachedHeadersAsServeContent: the memory cache answers a plain GET
// with the headers ServeContent sends for the same file (its answer to
// an If-Modified-Since it lets through), a file dated the Unix epoch
// included, for which ServeContent sends no Last-Modified.
func TestCachedHeadersAsServeContent(t *testing.T) {
	mod := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	fsys := fstest.MapFS{
		"dated.txt": {Data: []byte("dated"), ModTime: mod},
		"epoch.txt": {Data: []byte("epoch"), ModTime: time.Unix(0, 0)},
	}
	h := New(fsys, Options{CacheMaxAge: time.Minute, MemoryCache: 1 << 20})
	for _, name := range []string{"dated.txt", "epoch.txt"} {
		do(h, httptest.NewRequest("GET", "/"+name, nil)) // loads the cache
		w := do(h, httptest.NewRequest("GET", "/"+name, nil))
		r := httptest.NewRequest("GET", "/"+name, nil)
		r.Header.Set("If-Modified-Since", mod.Add(-time.Hour).Format(http.TimeFormat))
		sc := do(h, r)
		if w.Code != 200 || sc.Code != 200 || w.Body.String() != sc.Body.String() {
			t.Fatalf("%s: %d %q, ServeContent %d %q", name, w.Code, w.Body, sc.Code, sc.Body)
		}
		if !sameHeader(w.Header(), sc.Header()) {
			t.Errorf("%s: headers\n%v\nServeContent's\n%v", name, w.Header(), sc.Header())
		}
	}
}

func sameHeader(a, b http.Header) bool { return maps.EqualFunc(a, b, slices.Equal[[]string]) }

// readFromRecorder records what its ReadFrom is given.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	src io.Reader
}

func (w *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	w.src = src
	return io.Copy(w.ResponseRecorder, src)
}

// TestLargeFileReachesSendfile: the body of a file on disk past the
// memory cache reaches the ResponseWriter's ReadFrom as net's sendfile
// takes it, an *os.File in an io.LimitedReader, not behind *os.File's
// WriteTo (what io.Copy(w, f) would give), which copies in user space.
func TestLargeFileReachesSendfile(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("x"), MaxCachedFile+100)
	os.WriteFile(filepath.Join(dir, "big.txt"), big, 0o644)
	h, err := Dir(dir, Options{MemoryCache: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	w := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest("GET", "/big.txt", nil))
	if !bytes.Equal(w.Body.Bytes(), big) {
		t.Fatalf("%d bytes", w.Body.Len())
	}
	lr, ok := w.src.(*io.LimitedReader)
	if !ok {
		t.Fatalf("ReadFrom got %T, want an *io.LimitedReader", w.src)
	}
	if _, ok := lr.R.(*os.File); !ok {
		t.Errorf("the LimitedReader holds %T, want the *os.File", lr.R)
	}
}
