package proxy_test

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"path/filepath"
	"runtime/metrics"
	"testing"

	"github.com/gopaste/gopaste/proxy"
	"github.com/gopaste/gopaste/scgi"
)

// scgiBackend serves SCGI on a new listener (network "tcp" with addr
// host:port, or "unix" with a socket path) until the test ends: reply gets
// each request's variables, with br at its body, and writes the reply to
// c, which is closed after. It returns the address as a Transport takes it.
func scgiBackend(tb testing.TB, network, addr string, reply func(c net.Conn, br *bufio.Reader, vars []scgi.Var)) string {
	l, err := net.Listen(network, addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if vars, err := scgi.ReadHeaders(br, 0); err == nil {
					reply(c, br, vars)
				}
			}()
		}
	}()
	if network == "unix" {
		return "unix:" + addr
	}
	return l.Addr().String()
}

// scgiHello is an SCGI backend that answers every request with uWSGI's
// reply to bench/'s WSGI hello (no Content-Length) and closes, as the
// scgi-proxy scenario's uWSGI does, at the least cost to the benchmark.
func scgiHello(tb testing.TB, network, addr string) string {
	reply := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, World!\n")
	return scgiBackend(tb, network, addr, func(c net.Conn, _ *bufio.Reader, _ []scgi.Var) { c.Write(reply) })
}

// countWriter is a ResponseWriter that counts the body's bytes.
type countWriter struct {
	h http.Header
	n int
}

func (w *countWriter) Header() http.Header         { return w.h }
func (w *countWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *countWriter) WriteHeader(int)             {}
func (w *countWriter) Flush()                      {}

// reverseProxyRewrite is the proxy's default request (the client's
// X-Forwarded-For kept for the transport to extend) as a Rewrite, which
// makes a gateway proxy serve through httputil.ReverseProxy as it did
// before serveDirect.
func reverseProxyRewrite(pr *httputil.ProxyRequest) {
	if xff := pr.In.Header["X-Forwarded-For"]; len(xff) > 0 {
		pr.Out.Header["X-Forwarded-For"] = xff
	}
}

// BenchmarkSCGIProxy sends GETs through an scgi_proxy to scgiHello, over
// TCP and a Unix socket, through the direct handler (the default) and
// through httputil.ReverseProxy (a Rewrite set), and reports what the
// proxy allocates and the goroutines started per request (the backend's
// allocations and its goroutine per connection included). Run with
// -benchmem; compare CPU time with -cpuprofile or the wall time on a
// quiet machine.
func BenchmarkSCGIProxy(b *testing.B) {
	for _, network := range []string{"tcp", "unix"} {
		addr := "127.0.0.1:0"
		if network == "unix" {
			addr = filepath.Join(b.TempDir(), "s")
		}
		backend := scgiHello(b, network, addr)
		for _, path := range []string{"direct", "reverseproxy"} {
			b.Run(network+"/"+path, func(b *testing.B) {
				be, err := proxy.ParseBackend(backend)
				if err != nil {
					b.Fatal(err)
				}
				o := proxy.Options{
					Backends:      []proxy.Backend{be},
					RequireLength: true,
					Logger:        slog.New(slog.DiscardHandler),
					NewTransport:  func(proxy.Backend) http.RoundTripper { return &scgi.Transport{Addr: backend} },
				}
				if path == "reverseproxy" {
					o.Rewrite = reverseProxyRewrite
				}
				p, err := proxy.New(o)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				b.ReportAllocs()
				created := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
				metrics.Read(created)
				before := created[0].Value.Uint64()
				b.RunParallel(func(pb *testing.PB) {
					req := httptest.NewRequest("GET", "/hello", nil)
					req.Header.Set("User-Agent", "wrk")
					w := &countWriter{h: http.Header{}}
					for pb.Next() {
						w.n = 0
						clear(w.h)
						p.ServeHTTP(w, req)
						if w.n != 14 {
							b.Fatalf("reply of %d bytes", w.n)
						}
					}
				})
				metrics.Read(created)
				b.ReportMetric(float64(created[0].Value.Uint64()-before)/float64(b.N), "goroutines/op")
			})
		}
	}
}
