package static

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gopaste/gopaste/mount"
)

func newDir(t *testing.T, o Options) (*Handler, string) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(root, "sub"), 0o755)
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("0123456789"), 0o644)
	os.WriteFile(filepath.Join(root, "sub", "index.html"), []byte("<p>sub</p>"), 0o644)
	os.MkdirAll(filepath.Join(root, "empty"), 0o755)
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o644)
	os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "escape.txt"))
	os.Symlink("a.txt", filepath.Join(root, "inside.txt"))
	h, err := Dir(root, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, dir
}

func do(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestStaticServes(t *testing.T) {
	for _, mem := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("memory_cache=%d", mem), func(t *testing.T) { testStaticServes(t, mem) })
	}
}

func testStaticServes(t *testing.T, mem int64) {
	h, _ := newDir(t, Options{CacheMaxAge: time.Hour, MemoryCache: mem})
	tests := []struct {
		name, method, path string
		code               int
		body               string
	}{
		{"file", "GET", "/a.txt", 200, "0123456789"},
		{"index", "GET", "/sub/", 200, "<p>sub</p>"},
		{"symlink inside root", "GET", "/inside.txt", 200, "0123456789"},
		{"symlink escaping root", "GET", "/escape.txt", 404, ""},
		{"dot dot", "GET", "/../secret.txt", 301, ""}, // to /secret.txt, inside the root
		{"encoded dot dot", "GET", "/%2e%2e/secret.txt", 301, ""},
		{"missing", "GET", "/nope", 404, ""},
		{"no listing", "GET", "/empty/", 403, ""},
		{"post", "POST", "/a.txt", 405, ""},
		{"head", "HEAD", "/a.txt", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			do(h, httptest.NewRequest(tc.method, tc.path, nil)) // a second answer may come from the cache
			w := do(h, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.code {
				t.Errorf("status %d, want %d (%s)", w.Code, tc.code, w.Body)
			}
			if tc.body != "" && w.Body.String() != tc.body {
				t.Errorf("body %q, want %q", w.Body, tc.body)
			}
			if strings.Contains(w.Body.String(), "secret") {
				t.Error("leaked a file outside the root")
			}
		})
	}
}

func TestStaticHeadersRangeAndConditional(t *testing.T) {
	for _, mem := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("memory_cache=%d", mem), func(t *testing.T) { testStaticHeaders(t, mem) })
	}
}

func testStaticHeaders(t *testing.T, mem int64) {
	h, _ := newDir(t, Options{CacheMaxAge: time.Hour, MemoryCache: mem})
	w := do(h, httptest.NewRequest("GET", "/a.txt", nil))
	if w2 := do(h, httptest.NewRequest("GET", "/a.txt", nil)); fmt.Sprint(w2.Header()) != fmt.Sprint(w.Header()) {
		t.Errorf("second answer's headers %v, first %v", w2.Header(), w.Header())
	}
	etag := w.Header().Get("Etag")
	if etag == "" || w.Header().Get("Last-Modified") == "" || w.Header().Get("Cache-Control") != "max-age=3600" {
		t.Fatalf("headers %v", w.Header())
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	r := httptest.NewRequest("GET", "/a.txt", nil)
	r.Header.Set("Range", "bytes=2-4")
	if w := do(h, r); w.Code != 206 || w.Body.String() != "234" {
		t.Errorf("range: %d %q", w.Code, w.Body)
	}
	r = httptest.NewRequest("GET", "/a.txt", nil)
	r.Header.Set("If-None-Match", etag)
	if w := do(h, r); w.Code != 304 {
		t.Errorf("If-None-Match: %d", w.Code)
	}
}

func TestStaticDirectoryRedirectKeepsMount(t *testing.T) {
	h, _ := newDir(t, Options{})
	r := httptest.NewRequest("GET", "/files/sub?x=1", nil)
	r = mount.Shift(r, "/files")
	w := do(h, r)
	if w.Code != 301 || w.Header().Get("Location") != "/files/sub/?x=1" {
		t.Errorf("redirect %d to %q", w.Code, w.Header().Get("Location"))
	}
}

func TestStaticListingEscapesNames(t *testing.T) {
	fsys := fstest.MapFS{"d/<b>.txt": {Data: []byte("x")}, "d/q?.txt": {Data: []byte("y")}}
	h := New(fsys, Options{Listing: true})
	w := do(h, httptest.NewRequest("GET", "/d/", nil))
	body := w.Body.String()
	if w.Code != 200 || strings.Contains(body, "<b>") || !strings.Contains(body, "&lt;b&gt;") || !strings.Contains(body, `href="q%3F.txt"`) {
		t.Errorf("listing:\n%s", body)
	}
}

func TestStaticFS(t *testing.T) {
	h := New(fstest.MapFS{"index.html": {Data: []byte("home")}}, Options{})
	w := do(h, httptest.NewRequest("GET", "/", nil))
	b, _ := io.ReadAll(w.Body)
	if w.Code != 200 || string(b) != "home" {
		t.Errorf("%d %q", w.Code, b)
	}
}

// TestStaticMemoryCacheRevalidates checks a cached file that changes,
// vanishes or becomes a symlink out of the root is not served stale once
// the cache has checked it again.
func TestStaticMemoryCacheRevalidates(t *testing.T) {
	h, dir := newDir(t, Options{MemoryCache: 1 << 20})
	h.mem.ttl = 0 // check on every request
	root := filepath.Join(dir, "root")
	get := func() *httptest.ResponseRecorder { return do(h, httptest.NewRequest("GET", "/a.txt", nil)) }
	if w := get(); w.Body.String() != "0123456789" {
		t.Fatalf("first GET %d %q", w.Code, w.Body)
	}
	if _, ok := h.mem.entries["a.txt"]; !ok {
		t.Fatal("a.txt not cached")
	}
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("changed, and longer"), 0o644)
	if w := get(); w.Body.String() != "changed, and longer" {
		t.Errorf("after change %d %q", w.Code, w.Body)
	}
	os.Remove(filepath.Join(root, "a.txt"))
	os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "a.txt"))
	if w := get(); w.Code != 404 || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("symlink out of the root: %d %q", w.Code, w.Body)
	}
	os.Remove(filepath.Join(root, "a.txt"))
	if w := get(); w.Code != 404 {
		t.Errorf("after removal %d %q", w.Code, w.Body)
	}
}

// TestStaticMemoryCacheBounds checks files above MaxCachedFile and beyond
// the cache's size are served from disk.
func TestStaticMemoryCacheBounds(t *testing.T) {
	h, dir := newDir(t, Options{MemoryCache: 16})
	root := filepath.Join(dir, "root")
	big := strings.Repeat("x", MaxCachedFile+1)
	os.WriteFile(filepath.Join(root, "big.txt"), []byte(big), 0o644)
	os.WriteFile(filepath.Join(root, "b.txt"), []byte("0123456789"), 0o644)
	for _, p := range []string{"/big.txt", "/a.txt", "/b.txt", "/big.txt", "/b.txt"} {
		w := do(h, httptest.NewRequest("GET", p, nil))
		if w.Code != 200 || (p == "/big.txt") != (w.Body.Len() == len(big)) {
			t.Errorf("GET %s: %d, %d bytes", p, w.Code, w.Body.Len())
		}
	}
	if len(h.mem.entries) != 1 || h.mem.size != 10 {
		t.Errorf("cache holds %d files, %d bytes; want a.txt alone (10 bytes)", len(h.mem.entries), h.mem.size)
	}
}

func BenchmarkSmallFile(b *testing.B) {
	for _, mem := range []int64{0, 8 << 20} {
		b.Run(fmt.Sprintf("memory_cache=%d", mem), func(b *testing.B) {
			root := b.TempDir()
			os.WriteFile(filepath.Join(root, "small.txt"), []byte(strings.Repeat("x", 1024)), 0o644)
			h, err := Dir(root, Options{MemoryCache: mem})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			r := httptest.NewRequest("GET", "/small.txt", nil)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
