// Package conntrack is the accept loop and connection bookkeeping that the
// gateway protocol servers (uwsgi, fastcgi) share: it tracks listeners and
// connections so that Shutdown can stop accepting, close idle connections
// and wait for busy ones, as http.Server.Shutdown does.
package conntrack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Tracker serves listeners and tracks their connections. The zero value is
// ready to use; it is safe for concurrent use.
type Tracker struct {
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]*connState
	closing   bool
	wg        sync.WaitGroup // connection goroutines
}

type connState struct {
	busy  bool
	since time.Time
}

// Serve accepts connections on l and runs handle for each in its own
// goroutine, closing the connection when handle returns. It returns
// http.ErrServerClosed after Shutdown or Close.
func (t *Tracker) Serve(l net.Listener, handle func(net.Conn)) error {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		l.Close()
		return http.ErrServerClosed
	}
	if t.listeners == nil {
		t.listeners = map[net.Listener]struct{}{}
	}
	t.listeners[l] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.listeners, l)
		t.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if t.isClosing() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff) // as http.Server does on EMFILE
				continue
			}
			return err
		}
		backoff = 0
		if !t.add(c) {
			c.Close()
			return http.ErrServerClosed
		}
		go func() {
			defer t.wg.Done()
			defer t.remove(c)
			handle(c)
		}()
	}
}

func isTemporary(err error) bool {
	te, ok := err.(interface{ Temporary() bool })
	return ok && te.Temporary()
}

func (t *Tracker) isClosing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

func (t *Tracker) add(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closing {
		return false
	}
	if t.conns == nil {
		t.conns = map[net.Conn]*connState{}
	}
	t.conns[c] = &connState{since: time.Now()}
	t.wg.Add(1)
	return true
}

func (t *Tracker) remove(c net.Conn) {
	c.Close()
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// SetBusy marks c as serving a request (busy) or waiting for one (idle).
// Shutdown closes idle connections and waits for busy ones. It reports
// false when a shutdown has begun and c is becoming idle: the caller should
// then stop serving c.
func (t *Tracker) SetBusy(c net.Conn, busy bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st, ok := t.conns[c]; ok {
		st.busy = busy
		st.since = time.Now()
	}
	return busy || !t.closing
}

// Closing reports whether Shutdown or Close has been called.
func (t *Tracker) Closing() bool { return t.isClosing() }

// Shutdown stops the listeners, closes idle connections, and waits until
// the busy ones are done or ctx ends; then it closes those left and returns
// ctx's error.
func (t *Tracker) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.closing = true
	for l := range t.listeners {
		l.Close()
	}
	t.mu.Unlock()

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if t.closeIdle() {
			t.wg.Wait()
			return nil
		}
		select {
		case <-ctx.Done():
			t.Close()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// closeIdle closes connections that are idle (a connection that has been
// new for under a second may have a request in flight: it is left to its
// read timeout or the next round) and reports whether none is left.
func (t *Tracker) closeIdle() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for c, st := range t.conns {
		if !st.busy && now.Sub(st.since) > 500*time.Millisecond {
			// A half-received request is dropped, as http.Server does
			// with idle connections.
			c.Close()
		}
	}
	return len(t.conns) == 0
}

// Close closes the listeners and every connection at once.
func (t *Tracker) Close() error {
	t.mu.Lock()
	t.closing = true
	for l := range t.listeners {
		l.Close()
	}
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	return nil
}
