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

// Drain hands a process's connections over before it shuts down, so
// that a process giving its listener up (a prefork worker replaced by a
// reload or a recycle, the old process of an upgrade) drops no request
// of its clients, kept-alive ones included.
//
// Closing a kept-alive connection that has no request in flight races
// with the client's next request, which may be on its way: the client
// then sees EOF or a reset (wrk counts an error; browsers and Go's
// client retry idempotent requests only). And net/http's
// Server.Shutdown closes idle connections at once and drops, unanswered,
// a request it reads after the shutdown began. So Start, before
// Shutdown runs:
//
//  1. closes the listener (the socket stays open in the other processes,
//     which accept what comes next);
//  2. answers every request from then on with "Connection: close", so
//     that each client learns from a response that its connection ends
//     and opens the next one to another process (a gateway protocol
//     drops the header: its front server keeps its own connections);
//  3. waits until every connection accepted has been closed that way
//     (or by its client), at most MaxWait.
//
// Only a connection that stays silent for MaxWait is left to Shutdown.
// A Drain is safe for concurrent use.
type Drain struct {
	// MaxWait bounds the wait for open connections; zero means 1s.
	MaxWait time.Duration
	// Serving, when set, is called once, as the listener's first Accept
	// call begins: from then on this process takes connections, and the
	// process it takes over from may stop.
	Serving func()

	serving  sync.Once
	draining atomic.Bool // Start began: responses close their connection

	mu        sync.Mutex
	l         net.Listener
	accepting int           // Accept calls running: each may return a connection
	open      int           // accepted connections not closed yet
	changed   chan struct{} // closed and replaced when accepting or open shrinks
}

// Listener wraps l: the connections it accepts are counted until they
// close.
func (d *Drain) Listener(l net.Listener) net.Listener {
	d.mu.Lock()
	d.l = l
	d.mu.Unlock()
	return &drainListener{Listener: l, d: d}
}

// Handler wraps h: once the drain started, its responses close their
// connection.
func (d *Drain) Handler(h http.Handler) http.Handler {
	return &drainHandler{h: h, d: d}
}

// Start closes the listener, makes responses close their connection,
// and waits, at most MaxWait, until every connection the listener
// accepted was closed.
func (d *Drain) Start() {
	d.draining.Store(true)
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
		if d.open == 0 && d.accepting == 0 {
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

func (d *Drain) signalLocked() {
	if d.changed != nil {
		close(d.changed)
		d.changed = nil
	}
}

// accepted ends an Accept call, which returned a connection if ok.
func (d *Drain) accepted(ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accepting--
	if ok {
		d.open++
	}
	d.signalLocked()
}

// closed counts one accepted connection closed.
func (d *Drain) closed() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.open--
	d.signalLocked()
}

type drainListener struct {
	net.Listener
	d *Drain
}

// Accept counts itself while it runs: a connection it gets as the
// listener closes must be waited for too.
func (dl *drainListener) Accept() (net.Conn, error) {
	if dl.d.Serving != nil {
		dl.d.serving.Do(dl.d.Serving)
	}
	dl.d.mu.Lock()
	dl.d.accepting++
	dl.d.mu.Unlock()
	c, err := dl.Listener.Accept()
	if err != nil {
		dl.d.accepted(false)
		return nil, err
	}
	dl.d.accepted(true)
	return &drainConn{Conn: c, d: dl.d}, nil
}

// drainConn is an accepted connection, counted until it is closed.
type drainConn struct {
	net.Conn
	d    *Drain
	once sync.Once
}

func (c *drainConn) Close() error {
	c.once.Do(c.d.closed)
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
	if dh.d.draining.Load() {
		// net/http closes the connection after this response (HTTP/2:
		// it sends GOAWAY and closes once the streams are done).
		w.Header().Set("Connection", "close")
	}
	dh.h.ServeHTTP(w, r)
}

// ConnContext passes the connection to h's ConnContext, if it has one.
func (dh *drainHandler) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := dh.h.(ConnContexter); ok {
		return cc.ConnContext(ctx, c)
	}
	return ctx
}
