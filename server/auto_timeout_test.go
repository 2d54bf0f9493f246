package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gopaste/gopaste/server"
)

// TestAutoShortConnectionTimesOut (issue 12): on a "protocol = auto"
// port a connection that sends one byte, which tells no protocol apart,
// or the two bytes that route it to uwsgi (which takes anything), and
// then nothing, is closed after read_timeout: the sniffer's wait and the
// protocol server's header timeout both apply (a 1-byte connection once
// escaped them by being routed to uwsgi).
func TestAutoShortConnectionTimesOut(t *testing.T) {
	const timeout = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	s := &server.Server{
		Options: server.Options{Protocol: "auto", ReadTimeout: timeout, GracefulTimeout: time.Second},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready:   func(a net.Addr) { addrc <- a.String() },
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, http.NotFoundHandler()) }()
	t.Cleanup(func() { cancel(); <-done })
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	for _, tc := range []struct {
		name, sent string
		max        time.Duration // the sniffer's wait, then the protocol's
	}{
		{"uwsgi's first byte", "\x00", timeout},
		{"FastCGI's first byte", "\x01", timeout},
		{"HTTP's first byte", "G", timeout},
		{"SCGI's first byte", "7", timeout},
		{"two bytes routed to uwsgi", "\x00\x10", 2 * timeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			if _, err := io.WriteString(c, tc.sent); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(tc.max + 5*time.Second))
			n, err := c.Read(make([]byte, 512))
			took := time.Since(start)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("still open after %v (read_timeout %v)", took, timeout)
			}
			// The margin is for a shared machine, and below the timeout a
			// 1-byte connection routed on (to uwsgi) would add.
			if took < timeout-50*time.Millisecond || took > tc.max+700*time.Millisecond {
				t.Errorf("closed after %v (read %d bytes, %v), want after read_timeout %v, by %v (+0.7s)", took, n, err, timeout, tc.max)
			}
		})
	}
}
