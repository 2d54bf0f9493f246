package cache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// nopWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the cache, not a recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Cache-Control", "max-age=3600")
	io.WriteString(w, "hello, world\n")
})

// BenchmarkHit serves a stored answer from the memory store.
// Run: go test -run=^$ -bench=. -benchmem ./middleware/cache
func BenchmarkHit(b *testing.B) {
	h := New(Options{}).Wrap(hello)
	r := httptest.NewRequest("GET", "/hello", nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	w := &nopWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkBare is the handler alone, for comparison with BenchmarkHit.
func BenchmarkBare(b *testing.B) {
	r := httptest.NewRequest("GET", "/hello", nil)
	w := &nopWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		hello.ServeHTTP(w, r)
	}
}

// BenchmarkHitParallel is the hit path under contention on the LRU lock.
func BenchmarkHitParallel(b *testing.B) {
	h := New(Options{}).Wrap(hello)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/hello", nil))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/hello", nil)
		w := &nopWriter{h: make(http.Header)}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, r)
		}
	})
}
