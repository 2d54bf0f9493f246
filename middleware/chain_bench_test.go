package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/middleware/accesslog"
	"github.com/gopaste/gopaste/middleware/compress"
	"github.com/gopaste/gopaste/middleware/errorpage"
	"github.com/gopaste/gopaste/middleware/requestid"
)

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "Hello, World!")
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func chain(tb testing.TB) http.Handler {
	rid, err := requestid.New(requestid.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	log, err := accesslog.New(accesslog.Options{Output: accesslog.NewWriter(io.Discard, time.Second)})
	if err != nil {
		tb.Fatal(err)
	}
	errs, err := errorpage.New(errorpage.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	gz, err := compress.New(compress.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return rid(log(errs(gz(http.HandlerFunc(hello)))))
}

// BenchmarkChain compares a hello handler with the same handler behind
// requestid + accesslog (to io.Discard) + errors + compress, in process.
// Run with -benchmem.
func BenchmarkChain(b *testing.B) {
	for _, c := range []struct {
		name   string
		h      http.Handler
		accept string
	}{
		{"bare", http.HandlerFunc(hello), ""},
		{"chain", chain(b), ""},
		{"chain-gzip-accepted", chain(b), "gzip, deflate, br, zstd"},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/hello", nil)
			if c.accept != "" {
				req.Header.Set("Accept-Encoding", c.accept)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, req)
			}
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkChainHTTP is BenchmarkChain over a loopback connection with a
// keep-alive client, closer to what a server sees.
func BenchmarkChainHTTP(b *testing.B) {
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", http.HandlerFunc(hello)}, {"chain", chain(b)}} {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			client := srv.Client()
			req, _ := http.NewRequest("GET", srv.URL+"/hello", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			reportCPU(b, cpu0)
		})
	}
}

// cpuTime returns the user+system CPU time this process has used. On a
// shared, loaded machine, CPU per operation is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	if d := cpuTime() - start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// TestChain checks the chain answers like the bare handler.
func TestChain(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/hello", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	chain(t).ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "Hello, World!" || rec.Header().Get("X-Request-Id") == "" {
		t.Errorf("chain answered %d %q %v", rec.Code, rec.Body, rec.Header())
	}
}
