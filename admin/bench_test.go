package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gopaste/gopaste/apps/urlmap"
)

// BenchmarkObserve is the cost of counting one request in a series.
func BenchmarkObserve(b *testing.B) {
	s := newSeries("/")
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Observe(now, 200, time.Millisecond)
		}
	})
}

// BenchmarkWrap is the per-request cost the admin listener adds to the
// serve path: a request through a urlmap mount with and without Wrap.
func BenchmarkWrap(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	m := urlmap.New([]urlmap.Mount{{Prefix: "/", Handler: app}, {Prefix: "/api", Handler: app}}, nil)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", m}, {"wrapped", NewHub().Wrap(m)}} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/api/x", nil)
			w := discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, r)
			}
		})
	}
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}
