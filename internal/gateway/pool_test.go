package gateway

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// A bounded Pool: a request beyond MaxConns waits for a connection to come
// back (or for its slot, when one is closed), gives up with its context,
// and nothing it gave up is lost.
func TestPoolBound(t *testing.T) {
	var dials atomic.Int32
	p := &Pool{MaxConns: 1, Dial: func(context.Context) (net.Conn, error) {
		dials.Add(1)
		c, s := net.Pipe()
		t.Cleanup(func() { c.Close(); s.Close() })
		return c, nil
	}}
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
	go func() {
		pc, err := p.Get(t.Context(), false)
		if err != nil {
			t.Error(err)
		}
		got <- pc
	}()
	time.Sleep(20 * time.Millisecond)
	p.Put(first, true)
	second := <-got
	if second != first || !second.Reused {
		t.Fatalf("the waiter got %p (reused %v), want the connection put back %p", second, second.Reused, first)
	}

	// A waiting request gets the slot of a connection closed.
	go func() {
		pc, err := p.Get(t.Context(), false)
		if err != nil {
			t.Error(err)
		}
		got <- pc
	}()
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
