package wiretest

// This file is the fake backend the client tests listen with: a real
// socket, a func per connection, and a cleanup that leaves no goroutine
// behind.

import (
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// closeWait is how long Close waits for the Handles still running once
// their connections are closed.
const closeWait = 10 * time.Second

// A Backend is a fake server for a test: it accepts connections on a
// loopback TCP port or a unix socket and runs Handle for each on a
// goroutine of its own, until the test ends. Set the fields, then call
// [Backend.Start]; or call [Serve]. Its methods are safe for concurrent
// use.
type Backend struct {
	// Network is "tcp" (the default), listening on 127.0.0.1:0, or
	// "unix", listening on a socket in the test's TempDir.
	Network string
	// Timeout, when not zero, is each connection's deadline, counted
	// from its accept.
	Timeout time.Duration
	// Handle serves one connection, which is closed when Handle returns.
	// It runs on its own goroutine, so it reports with t.Error, never
	// t.Fatal. It must return once its connection is closed, or soon
	// after.
	Handle func(net.Conn)

	tb       testing.TB
	l        net.Listener
	addr     string
	accepted atomic.Int64
	wg       sync.WaitGroup // the accept loop and every Handle

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // open, guarded by mu
	closed bool                  // guarded by mu
}

// Serve starts a Backend on network ("tcp" or "unix") running handle
// for each connection, and returns it. It stops when the test ends.
func Serve(tb testing.TB, network string, handle func(net.Conn)) *Backend {
	tb.Helper()
	b := &Backend{Network: network, Handle: handle}
	b.Start(tb)
	return b
}

// Start listens and accepts in the background until [Backend.Close],
// which the test's cleanup calls. A Backend starts once; a nil Handle
// or an unknown Network fails the test.
func (b *Backend) Start(tb testing.TB) {
	tb.Helper()
	if b.tb != nil {
		tb.Fatal("wiretest: Backend started twice")
	}
	if b.Handle == nil {
		tb.Fatal("wiretest: Backend without a Handle")
	}
	var err error
	switch b.Network {
	case "", "tcp":
		b.l, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			b.addr = b.l.Addr().String()
		}
	case "unix":
		sock := filepath.Join(tb.TempDir(), "backend.sock")
		b.l, err = net.Listen("unix", sock)
		b.addr = "unix:" + sock
	default:
		tb.Fatalf("wiretest: Backend network %q, want \"tcp\" or \"unix\"", b.Network)
	}
	if err != nil {
		tb.Fatal(err)
	}
	b.tb = tb
	b.conns = make(map[net.Conn]struct{})
	tb.Cleanup(b.Close)
	b.wg.Go(b.accept)
}

func (b *Backend) accept() {
	for {
		c, err := b.l.Accept()
		if err != nil {
			return // closed by Close
		}
		b.accepted.Add(1)
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			c.Close()
			return
		}
		b.conns[c] = struct{}{}
		b.wg.Add(1) // under mu, so that Close's Wait comes after
		b.mu.Unlock()
		go func() {
			defer b.wg.Done()
			defer b.forget(c)
			if b.Timeout > 0 {
				c.SetDeadline(time.Now().Add(b.Timeout))
			}
			b.Handle(c)
		}()
	}
}

func (b *Backend) forget(c net.Conn) {
	c.Close()
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
}

func (b *Backend) started() {
	if b.tb == nil {
		panic("wiretest: Backend used before Start")
	}
}

// Addr returns the address as the Transports take it: "127.0.0.1:PORT",
// or "unix:/path/to.sock".
func (b *Backend) Addr() string {
	b.started()
	return b.addr
}

// Accepted returns the number of connections accepted so far.
func (b *Backend) Accepted() int {
	b.started()
	return int(b.accepted.Load())
}

// Close stops accepting, closes the connections still open and waits for
// every Handle to return. A Handle still running ten seconds later fails
// the test, and is left running. Close may be called more than once.
func (b *Backend) Close() {
	b.started()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.l.Close()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
		b.mu.Lock()
		n := len(b.conns)
		b.mu.Unlock()
		b.tb.Errorf("wiretest: %d connection Handles still running %v after their connections were closed", n, closeWait)
	}
}
