package conntrack

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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
