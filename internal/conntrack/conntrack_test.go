package conntrack

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestShutdownWaitsForBusyClosesIdle(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var tr Tracker
	busy := make(chan struct{})
	release := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- tr.Serve(l, func(c net.Conn) {
			var b [1]byte
			if _, err := c.Read(b[:]); err != nil {
				return // an idle connection closed by Shutdown
			}
			tr.SetBusy(c, true)
			close(busy)
			<-release
			c.Write([]byte("done"))
		})
	}()
	idle, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	active, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer active.Close()
	active.Write([]byte("x"))
	<-busy

	shut := make(chan error, 1)
	go func() { shut <- tr.Shutdown(context.Background()) }()
	// The idle connection is closed (after its grace), the busy one not.
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(idle); err != nil {
		t.Fatalf("idle connection: %v", err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a connection was busy", err)
	default:
	}
	close(release)
	active.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, _ := io.ReadAll(active); string(b) != "done" {
		t.Errorf("busy connection got %q", b)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
}

func TestShutdownDeadlineClosesBusy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var tr Tracker
	busy := make(chan struct{})
	go tr.Serve(l, func(c net.Conn) {
		tr.SetBusy(c, true)
		close(busy)
		io.Copy(io.Discard, c) // ends when the connection is closed
	})
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-busy
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("connection not closed: %v", err)
	}
	if err := tr.Serve(l, func(net.Conn) {}); !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v", err)
	}
}

// TestLimit: at Limit open connections accepting pauses, says so once in
// the log, and resumes when one closes (issue 12: a cap per server).
func TestLimit(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	tr := Tracker{Limit: 2}
	tr.SetLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil)))
	handled := make(chan struct{}, 3)
	go tr.Serve(l, func(c net.Conn) {
		handled <- struct{}{}
		io.Copy(io.Discard, c) // until the client closes
	})
	defer tr.Close()
	var clients []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	for range 2 {
		<-handled
	}
	select {
	case <-handled:
		t.Fatal("a third connection was served over the limit of 2")
	case <-time.After(200 * time.Millisecond):
	}
	mu.Lock()
	if !strings.Contains(logs.String(), "connection limit reached") || !strings.Contains(logs.String(), "limit=2") {
		t.Errorf("log = %q", logs.String())
	}
	mu.Unlock()
	clients[0].Close()
	select {
	case <-handled:
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not served after one closed")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
