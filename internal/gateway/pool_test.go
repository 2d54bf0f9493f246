package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/wiretest"
)

// A bounded Pool: a request beyond MaxConns waits for a connection to come
// back (or for its slot, when one is closed), gives up with its context,
// and nothing it gave up is lost.
func TestPoolBound(t *testing.T) {
	var dials atomic.Int32
	p := &Pool{MaxConns: 1, Dial: pipeDial(t, &dials)}
	first, err := p.Get(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}

	// A second request waits; its context ends the wait.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Get(ctx, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get beyond MaxConns = %v, want the context's error", err)
	}

	// A waiting request gets the connection put back.
	got := make(chan *PoolConn)
	getAsync(t, p, got)
	time.Sleep(20 * time.Millisecond)
	p.Put(first, true)
	second := <-got
	if second != first || !second.Reused {
		t.Fatalf("the waiter got %p (reused %v), want the connection put back %p", second, second.Reused, first)
	}

	// A waiting request gets the slot of a connection closed.
	getAsync(t, p, got)
	time.Sleep(20 * time.Millisecond)
	p.Put(second, false)
	third := <-got
	if third == second || third.Reused || dials.Load() != 2 {
		t.Fatalf("after a close the waiter got a reused connection or no new dial (%d dials)", dials.Load())
	}
	if n := p.Open(); n != 1 {
		t.Errorf("%d connections open, want 1", n)
	}
	p.Put(third, true)
	if p.Idle() != 1 {
		t.Errorf("%d idle, want 1", p.Idle())
	}
	p.Close()
	if p.Idle() != 0 || p.Open() != 0 {
		t.Errorf("after Close: %d idle, %d open", p.Idle(), p.Open())
	}
}

// A failed dial gives its slot back.
func TestPoolDialFailureFreesSlot(t *testing.T) {
	fail := errors.New("refused")
	p := &Pool{MaxConns: 1, Dial: func(context.Context) (net.Conn, error) { return nil, fail }}
	for range 3 {
		if _, err := p.Get(t.Context(), false); !errors.Is(err, fail) {
			t.Fatalf("Get = %v, want the dial error", err)
		}
	}
	if n := p.Open(); n != 0 {
		t.Errorf("%d slots taken after failed dials, want 0", n)
	}
}

// A faulty HTTP backend sends a body after a reply that has none (here
// to HEAD), a moment after the head: the kept connection is looked at
// before its next use, however soon, and replaced rather than read as
// the next reply.
func TestKeptBodilessReplyPeeked(t *testing.T) {
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			for l := ""; l != "\r\n" && err == nil; l, err = br.ReadString('\n') {
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
			if strings.HasPrefix(line, "HEAD") {
				time.Sleep(2 * time.Millisecond)
				io.WriteString(c, "junk!") // the body HEAD must not get
			} else {
				io.WriteString(c, "hello")
			}
		}
	})
	p := &Pool{MaxIdle: 1, Alive: PeekAlive, Dial: func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", b.Addr())
	}}
	defer p.Close()
	x := Exchange{HTTP: true}
	send := func(method string) (*http.Response, string, error) {
		req, _ := http.NewRequest(method, "http://x/", nil)
		res, err := x.RoundTripPool(p, req, []byte(method+" / HTTP/1.1\r\nHost: x\r\n\r\n"))
		if err != nil {
			return nil, "", err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body), err
	}
	if _, _, err := send("HEAD"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // the junk has come; PeekAlive's 10 ms have not passed
	_, body, err := send("POST")
	if err != nil || body != "hello" {
		t.Fatalf("the request after HEAD: %q, %v", body, err)
	}
	if n := b.Accepted(); n != 2 {
		t.Errorf("%d connections, want 2 (the one with junk replaced)", n)
	}
}

// getAsync takes a connection from p on its own goroutine and sends it
// to got.
func getAsync(t *testing.T, p *Pool, got chan<- *PoolConn) {
	go func() {
		pc, err := p.Get(t.Context(), false)
		if err != nil {
			t.Error(err)
		}
		got <- pc
	}()
}

// SetMaxConns on a pool in use: a request waiting for a connection dials
// the new room at once; after a lower bound, connections coming back
// beyond it are closed rather than kept.
func TestPoolSetMaxConns(t *testing.T) {
	var dials atomic.Int32
	p := &Pool{MaxConns: 1, Dial: pipeDial(t, &dials)}
	first, err := p.Get(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *PoolConn)
	go func() {
		pc, err := p.Get(t.Context(), false)
		if err != nil {
			t.Error(err)
		}
		got <- pc
	}()
	for p.waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	p.SetMaxConns(2)
	var second *PoolConn
	select {
	case second = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting request did not get the new room")
	}
	if dials.Load() != 2 || p.Open() != 2 {
		t.Errorf("dials %d, open %d; want 2 and 2", dials.Load(), p.Open())
	}
	p.SetMaxConns(1)
	p.Put(first, true)
	p.Put(second, true)
	if p.Idle() != 1 || p.Open() != 1 {
		t.Errorf("after MaxConns 1: idle %d, open %d; want 1 and 1", p.Idle(), p.Open())
	}
}

// waiting returns how many requests wait for a connection.
func (p *Pool) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiters)
}

// pipeDial dials in-memory connections, counting them in dials.
func pipeDial(t *testing.T, dials *atomic.Int32) func(context.Context) (net.Conn, error) {
	return func(context.Context) (net.Conn, error) {
		dials.Add(1)
		c, s := net.Pipe()
		t.Cleanup(func() { c.Close(); s.Close() })
		return c, nil
	}
}
