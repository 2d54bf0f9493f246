package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Drain stops a server accepting before it shuts down, so that a
// process handing its listener over (a recycled prefork worker, the old
// process of an upgrade) drops no connection it accepted.
//
// It is needed because net/http's Server.Shutdown closes, without an
// answer, a connection whose first request it reads after the shutdown
// began, even one accepted before: under load, a worker told to stop has
// such connections, and their clients would see EOF. Drain closes the
// listener first (the socket stays open in the other processes, which
// accept what comes next) and waits until every connection accepted has
// had a request reach the handler, or was closed, or MaxWait passed;
// only then should Shutdown run.
//
// Connections are matched to requests by the client's address, which
// the HTTP protocol puts in Request.RemoteAddr; the gateway protocols
// put their client's there, so their connections wait out MaxWait (or
// their closing). A Drain is safe for concurrent use.
type Drain struct {
	// MaxWait bounds the wait for accepted connections; zero means 1s.
	MaxWait time.Duration

	mu        sync.Mutex
	l         net.Listener
	accepting int            // Accept calls running: each may return a connection
	pending   map[string]int // accepted connections without a request yet, by remote address
	changed   chan struct{}  // closed and replaced when accepting or pending shrinks
	// waiting is the sum of pending's counts, written under mu. Every
	// request calls done: with nothing pending (a kept-alive connection's
	// later requests) it returns without taking mu, which all requests
	// of the process would otherwise contend for.
	waiting atomic.Int64
}

// Listener wraps l: the connections it accepts are waited for.
func (d *Drain) Listener(l net.Listener) net.Listener {
	d.mu.Lock()
	d.l = l
	d.mu.Unlock()
	return &drainListener{Listener: l, d: d}
}

// Handler wraps h: a request marks its connection as served.
func (d *Drain) Handler(h http.Handler) http.Handler {
	return &drainHandler{h: h, d: d}
}

// Start closes the listener and waits, at most MaxWait, until every
// connection it accepted has had a request start or was closed.
func (d *Drain) Start() {
	d.mu.Lock()
	l := d.l
	d.mu.Unlock()
	if l != nil {
		l.Close()
	}
	wait := d.MaxWait
	if wait <= 0 {
		wait = time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		d.mu.Lock()
		if len(d.pending) == 0 && d.accepting == 0 {
			d.mu.Unlock()
			return
		}
		ch := d.changedLocked()
		d.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}

func (d *Drain) changedLocked() chan struct{} {
	if d.changed == nil {
		d.changed = make(chan struct{})
	}
	return d.changed
}

// accepted ends an Accept call, which returned a connection from key
// unless key is "".
func (d *Drain) accepted(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accepting--
	if key != "" {
		if d.pending == nil {
			d.pending = map[string]int{}
		}
		d.pending[key]++
		d.waiting.Add(1)
	}
	d.signalLocked()
}

func (d *Drain) signalLocked() {
	if d.changed != nil {
		close(d.changed)
		d.changed = nil
	}
}

// done marks one connection from key as served or closed.
func (d *Drain) done(key string) {
	if d.waiting.Load() == 0 {
		// accepted(key) ran before the connection reached the server,
		// so a connection of key waiting would be counted already.
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.pending[key]
	if !ok {
		return
	}
	if n <= 1 {
		delete(d.pending, key)
	} else {
		d.pending[key] = n - 1
	}
	d.waiting.Add(-1)
	d.signalLocked()
}

type drainListener struct {
	net.Listener
	d *Drain
}

// Accept counts itself while it runs: a connection it gets as the
// listener closes must be waited for too.
func (dl *drainListener) Accept() (net.Conn, error) {
	dl.d.mu.Lock()
	dl.d.accepting++
	dl.d.mu.Unlock()
	c, err := dl.Listener.Accept()
	if err != nil {
		dl.d.accepted("")
		return nil, err
	}
	dc := &drainConn{Conn: c, d: dl.d, key: c.RemoteAddr().String()}
	dl.d.accepted(dc.key)
	return dc, nil
}

// drainConn is an accepted connection; its first request or its closing
// takes it off the pending list.
type drainConn struct {
	net.Conn
	d    *Drain
	key  string
	once sync.Once
}

func (c *drainConn) Close() error {
	c.once.Do(func() { c.d.done(c.key) })
	return c.Conn.Close()
}

// ReadFrom hands bulk writes to the connection itself (sendfile).
func (c *drainConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(c.Conn, r) }

// CloseWrite half-closes TCP connections.
func (c *drainConn) CloseWrite() error { return closeWrite(c.Conn) }

type drainHandler struct {
	h http.Handler
	d *Drain
}

func (dh *drainHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dh.d.done(r.RemoteAddr)
	dh.h.ServeHTTP(w, r)
}

// ConnContext passes the connection to h's ConnContext, if it has one.
func (dh *drainHandler) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := dh.h.(ConnContexter); ok {
		return cc.ConnContext(ctx, c)
	}
	return ctx
}
