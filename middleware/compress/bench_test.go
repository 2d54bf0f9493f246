package compress

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkSmall is the benchmarks' filters scenario in process: a
// 14-byte answer with its length declared (as the text app sends it),
// gzip accepted, bare and behind the filter. Run with -benchmem.
func BenchmarkSmall(b *testing.B) {
	f, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", withLength("Hello, World!\n")}, {"compress", f(withLength("Hello, World!\n"))}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkLarge: a 5400-byte answer that is compressed.
func BenchmarkLarge(b *testing.B) {
	f, err := New(Options{Level: 1, NoZstd: true})
	if err != nil {
		b.Fatal(err)
	}
	h := f(withLength(big))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
