// Package conntrack is the accept loop and connection bookkeeping that the
// gateway protocol servers (scgi, uwsgi, fastcgi) share: it tracks
// listeners and connections so that Shutdown can stop accepting, close
// idle connections and wait for busy ones, as http.Server.Shutdown does,
// and it caps the connections open at once.
package conntrack

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultLimit is how many connections a Tracker keeps open at once when
// its Limit is zero.
const DefaultLimit = 10000

// Tracker serves listeners and tracks their connections. The zero value is
// ready to use; it is safe for concurrent use once serving.
type Tracker struct {
	// Limit caps the connections open at once, over all listeners; zero
	// means DefaultLimit. At the cap, accepting pauses until one closes
	// (new connections wait in the listen backlog) and Logger says so
	// once (see SetLogger). Set it before Serve.
	Limit int

	logger    *slog.Logger // nil means slog.Default()
	mu        sync.Mutex
	room      sync.Cond // signalled when a connection closes
	full      bool      // at the cap, logged
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
		if !t.waitRoom() {
			return http.ErrServerClosed
		}
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

// waitRoom blocks while Limit connections are open; it reports false when
// the Tracker is closing.
func (t *Tracker) waitRoom() bool {
	limit := t.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.room.L == nil {
		t.room.L = &t.mu
	}
	for len(t.conns) >= limit && !t.closing {
		if !t.full {
			t.full = true
			log := t.logger
			if log == nil {
				log = slog.Default()
			}
			log.Warn("connection limit reached: new connections wait until one closes", "limit", limit)
		}
		t.room.Wait()
	}
	t.full = false
	return !t.closing
}

// SetLogger sets where the Tracker logs (nil means slog.Default()); it is
// safe to call while serving.
func (t *Tracker) SetLogger(l *slog.Logger) {
	t.mu.Lock()
	t.logger = l
	t.mu.Unlock()
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
	t.signal()
	t.mu.Unlock()
}

// signal wakes the accept loops waiting for room; t.mu is held.
func (t *Tracker) signal() {
	if t.room.L != nil {
		t.room.Broadcast()
	}
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
	t.signal()
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
	t.signal()
	t.mu.Unlock()
	return nil
}
