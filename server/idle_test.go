package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/registry"
)

// A kept-alive HTTP connection that sends nothing more is closed after
// idle_timeout, else read_timeout, else the gateway servers' default: no
// configuration leaves idle connections open for ever.
func TestHTTPIdleTimeoutDefault(t *testing.T) {
	for _, c := range []struct {
		name       string
		idle, read time.Duration
		want       time.Duration
	}{
		{"default", 0, 0, gateway.DefaultIdleTimeout},
		{"read_timeout", 0, 30 * time.Second, 30 * time.Second},
		{"idle_timeout", 5 * time.Second, 30 * time.Second, 5 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := newHTTP(http.NotFoundHandler(), registry.ProtocolOptions{IdleTimeout: c.idle, ReadTimeout: c.read}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if got := s.(*plainServing).srv.IdleTimeout; got != c.want {
				t.Errorf("IdleTimeout %v, want %v", got, c.want)
			}
		})
	}
}

// The idle timeout reaches the connection through headConn's deferred
// read deadline: a kept-alive connection is closed once it has idled
// that long after a reply, and not before.
func TestHTTPIdleTimeoutCloses(t *testing.T) {
	const idle = 300 * time.Millisecond
	addr := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}), registry.ProtocolOptions{IdleTimeout: idle})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 2 { // the second request on the kept connection
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: read %v, want EOF (closed by the server)", err)
	}
	if d := time.Since(start); d < idle-50*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout %v", d, idle)
	}
}

// serveHTTP serves h with gopaste's HTTP server on a loopback port until
// the test ends, and returns the address.
func serveHTTP(t *testing.T, h http.Handler, o registry.ProtocolOptions) string {
	t.Helper()
	s, err := newHTTP(h, o, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return l.Addr().String()
}
