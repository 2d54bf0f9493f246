package static

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFIFONotOpenedForEver: a FIFO in the document root (or as the index
// file) is answered 404 at once. Opened without O_NONBLOCK, it held the
// request, and a thread, until some process opened it for writing.
func TestFIFONotOpenedForEver(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "sub", "index.html"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mem := range []int64{0, 1 << 20} { // without and with the memory cache
		h, err := Dir(dir, Options{MemoryCache: mem})
		if err != nil {
			t.Fatal(err)
		}
		for path, want := range map[string]int{"/pipe": 404, "/sub/": 403} {
			done := make(chan int, 1)
			go func() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
				done <- w.Code
			}()
			select {
			case code := <-done:
				if code != want {
					t.Errorf("memory_cache %d, GET %s: %d, want %d", mem, path, code, want)
				}
			case <-time.After(5 * time.Second):
				// Release the open that waits for a writer.
				for _, p := range []string{pipe, filepath.Join(dir, "sub", "index.html")} {
					if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
						f.Close()
					}
				}
				<-done
				t.Fatalf("memory_cache %d, GET %s: no answer in 5s: the FIFO's open waited for a writer", mem, path)
			}
		}
		h.Close()
	}
}
