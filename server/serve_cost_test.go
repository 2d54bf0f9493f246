package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/apps/text"
	"github.com/gopaste/gopaste/deploy"
	_ "github.com/gopaste/gopaste/middleware/accesslog"
	_ "github.com/gopaste/gopaste/middleware/compress"
	_ "github.com/gopaste/gopaste/middleware/errorpage"
	_ "github.com/gopaste/gopaste/middleware/requestid"
)

// BenchmarkServe is what gopaste's http server adds to a request over a
// bare net/http server: one keep-alive client sends GET requests over
// loopback to
//
//   - net-http: http.Server with no timeouts (bench/hellosrv),
//   - net-http-header-timeout: the same with ReadHeaderTimeout, which
//     gopaste always has (a minute by default),
//   - gopaste: Server.Run as "gopaste serve" runs it: the drain's
//     listener and handler, Swap, and an app deploy built (its config
//     in the connection's context),
//   - gopaste-filters: the same with bench's filters scenario, the text
//     app behind requestid, accesslog (to a file), errors and compress.
//
// All serve the text app; the client sends Accept-Encoding: gzip, as
// the filters scenario does. allocs/op and cpu-ns/op count the client
// too, which is the same for all.
func BenchmarkServe(b *testing.B) {
	app, err := text.New(text.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("net-http", func(b *testing.B) {
		benchServe(b, func(l net.Listener) func() {
			srv := &http.Server{Handler: app}
			go srv.Serve(l)
			return func() { srv.Close() }
		})
	})
	b.Run("net-http-header-timeout", func(b *testing.B) {
		benchServe(b, func(l net.Listener) func() {
			srv := &http.Server{Handler: app, ReadHeaderTimeout: time.Minute}
			go srv.Serve(l)
			return func() { srv.Close() }
		})
	})
	for _, c := range []struct{ name, ini string }{
		{"gopaste", "[app:main]\nuse = text\n"},
		// bench/scenarios.go's filters scenario.
		{"gopaste-filters", `[pipeline:main]
pipeline = requestid accesslog errors compress hello

[filter:requestid]
use = requestid

[filter:accesslog]
use = accesslog
file = access.log

[filter:errors]
use = errors

[filter:compress]
use = compress

[app:hello]
use = text
`},
	} {
		b.Run(c.name, func(b *testing.B) { benchGopaste(b, c.ini) })
	}
}

// benchGopaste runs benchServe against the config ini as "gopaste serve"
// serves it.
func benchGopaste(b *testing.B, ini string) {
	dir := b.TempDir()
	p := filepath.Join(dir, "site.ini")
	if err := os.WriteFile(p, []byte(ini), 0o644); err != nil {
		b.Fatal(err)
	}
	built, err := deploy.BuildApp(p, "", deploy.Options{Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer built.Close()
	benchServe(b, func(l net.Listener) func() {
		// As cli's serving.run: a drained listener, Swap behind
		// the drain's handler.
		srv := &Server{Options: Options{Protocol: "http", Concurrency: "threaded"}, Logger: quiet()}
		d := &Drain{}
		srv.Listener = d.Listener(l)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.Run(ctx, d.Handler(NewSwap(built.Handler)))
		}()
		return func() { cancel(); <-done }
	})
}

// benchServe starts a server on a loopback listener with serve and sends
// it b.N requests on one connection.
func benchServe(b *testing.B, serve func(net.Listener) (stop func())) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	stop := serve(l)
	defer stop()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nAccept-Encoding: gzip\r\n\r\n")
	br := bufio.NewReader(c)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if err := readResponse(br); err != nil {
			b.Fatal(err)
		}
	}
	if d := cpuTime() - cpu0; b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// readResponse reads a response head and its Content-Length body
// without allocating.
func readResponse(br *bufio.Reader) error {
	n := -1
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if first {
			if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
				return fmt.Errorf("status line %q", line)
			}
			continue
		}
		if len(line) == 0 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n = 0
			for _, ch := range v {
				n = n*10 + int(ch-'0')
			}
		}
	}
	if n < 0 {
		return errors.New("no Content-Length")
	}
	_, err := br.Discard(n)
	return err
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHeaderTimeoutDeadlines: net/http sets a read deadline in the
// future (ReadHeaderTimeout, the slowloris defence) once each request's
// first bytes have arrived and clears it when the head is read; headConn
// gives it to the connection only when a read starts in between
// (deadline.go). With the whole head in the first bytes, the header
// timeout's timer is armed for the first request only (its deadline is
// set before its first read), not for each of the 20; the idle timeout
// (one minute by default) is armed for each wait for a next request, 20
// of them; no write deadline is set.
func TestHeaderTimeoutDeadlines(t *testing.T) {
	app, err := text.New(text.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dl := &deadlineListener{Listener: l, closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := &Server{Options: Options{Protocol: "http"}, Logger: quiet(), Listener: dl}
		s.Run(ctx, app)
	}()
	defer func() { cancel(); <-done }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	const n = 20
	for range n {
		if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := readResponse(br); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	// The server's goroutine arms the next request's deadline after it
	// reads that request's first bytes: none come, and it ends on EOF.
	<-dl.closed
	if got := dl.futureReads.Load(); got != 1+n {
		t.Errorf("read deadlines in the future: %d for %d requests, want %d (the first request's head, and the idle wait after each)", got, n, 1+n)
	}
	if got := dl.futureWrites.Load(); got != 0 {
		t.Errorf("write deadlines in the future: %d, want none", got)
	}
}

// TestHeaderTimeoutKeptAlive: the head of a second request on a kept-alive
// connection that stops after its first line is still cut off at the
// header timeout, now that headConn gives the deadline to the connection
// only when the read for the rest of the head starts.
func TestHeaderTimeoutKeptAlive(t *testing.T) {
	app, err := text.New(text.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 300 * time.Millisecond
	addr := start(t, Options{Protocol: "http", ReadTimeout: timeout}, app)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := readResponse(br); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	c.SetReadDeadline(t0.Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, br); err != nil { // until the server closes
		t.Fatalf("the stalled head's connection stays open: %v", err)
	}
	if d := time.Since(t0); d < timeout {
		t.Errorf("closed after %v, before the header timeout %v", d, timeout)
	}
}

// deadlineListener counts the deadlines its connections are given.
type deadlineListener struct {
	net.Listener
	futureReads, futureWrites atomic.Int64
	closed                    chan struct{} // closed when the first connection is
	closeOnce                 sync.Once
}

func (l *deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, l: l}, nil
}

type deadlineConn struct {
	net.Conn
	l *deadlineListener
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	if t.After(time.Now()) {
		c.l.futureReads.Add(1)
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	if t.After(time.Now()) {
		c.l.futureWrites.Add(1)
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	if t.After(time.Now()) {
		c.l.futureReads.Add(1)
		c.l.futureWrites.Add(1)
	}
	return c.Conn.SetDeadline(t)
}

func (c *deadlineConn) Close() error {
	c.l.closeOnce.Do(func() { close(c.l.closed) })
	return c.Conn.Close()
}

// BenchmarkHeaderDeadline is the read deadlines net/http sets for a
// kept-alive request under a header timeout, when the head came whole
// with its first bytes: on the connection itself, as before deadline.go,
// and on a headConn.
func BenchmarkHeaderDeadline(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, conn := range []net.Conn{c, &headConn{Conn: c}} {
		b.Run(fmt.Sprintf("%T", conn), func(b *testing.B) {
			for b.Loop() {
				conn.SetReadDeadline(time.Now().Add(time.Minute)) // the head's
				conn.SetReadDeadline(time.Time{})                 // read: no ReadTimeout
				conn.SetReadDeadline(time.Time{})                 // the background read
				conn.SetReadDeadline(time.Time{})                 // idle: no IdleTimeout
			}
		})
	}
}
