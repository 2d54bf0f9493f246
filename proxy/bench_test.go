package proxy

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}

// BenchmarkHTTPProxy sends GETs through an http_proxy to a loopback
// net/http hello world, as bench/'s proxy-http scenario does, and reports
// what the proxy allocates per request (the backend's share included):
// as http_proxy serves them (its own client), and as it did before
// (httputil.ReverseProxy over net/http's Transport). Run with -benchmem.
func BenchmarkHTTPProxy(b *testing.B) {
	body := []byte("Hello, World!\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(body)
	}))
	defer srv.Close()
	be, err := ParseBackend(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"http", "reverseproxy"} {
		b.Run(path, func(b *testing.B) {
			o := Options{Backends: []Backend{be}, HTTP: true, Logger: slog.New(slog.DiscardHandler)}
			o.NewTransport = func(b Backend) http.RoundTripper { return NewHTTPTransport(b, o) }
			if path == "reverseproxy" {
				o.HTTP, o.Rewrite = false, HTTPRewrite
				o.NewTransport = func(b Backend) http.RoundTripper { return NewHTTPTransport(b, o).(*httpTransport).t }
			}
			p, err := New(o)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				req := httptest.NewRequest("GET", "/hello", nil)
				req.Header.Set("User-Agent", "wrk")
				for pb.Next() {
					clear(w.h)
					p.ServeHTTP(w, req)
				}
			})
		})
	}
}
