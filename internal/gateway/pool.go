package gateway

// This file is the client side of a connection kept for more than one
// request: gopaste's own uwsgi workers agree to it (docs/protocols.md,
// "uwsgi keep-alive"); other backends close after each reply as before.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults of a Pool.
const (
	DefaultPoolMaxIdle     = 2
	DefaultPoolIdleTimeout = 30 * time.Second
)

// Pool keeps the idle connections to one backend for
// [Exchange.RoundTripPool]. It is safe for concurrent use; the zero
// value (with Dial set) is ready to use.
type Pool struct {
	// Dial opens a new connection to the backend.
	Dial func(ctx context.Context) (net.Conn, error)
	// MaxIdle bounds the idle connections kept; zero means
	// DefaultPoolMaxIdle. Set it to the backend's concurrency: more idle
	// connections than it serves at once would only sit there.
	MaxIdle int
	// IdleTimeout is how long an idle connection may be reused; zero
	// means DefaultPoolIdleTimeout, less than the servers' idle limit
	// (DefaultIdleTimeout, one minute), so that the client gives up a
	// connection before the server does.
	IdleTimeout time.Duration

	mu     sync.Mutex
	idle   []*poolConn // newest last
	closed bool
}

// poolConn is a connection with the reader of its replies, which a kept
// connection keeps from one request to the next.
type poolConn struct {
	c    net.Conn
	br   *bufio.Reader
	used time.Time // when it went idle
}

// get returns an idle connection (reused is true) or a new one; with
// fresh, always a new one.
func (p *Pool) get(ctx context.Context, fresh bool) (pc *poolConn, reused bool, err error) {
	if fresh {
		return p.dial(ctx)
	}
	timeout := p.IdleTimeout
	if timeout <= 0 {
		timeout = DefaultPoolIdleTimeout
	}
	now := time.Now()
	p.mu.Lock()
	var stale []*poolConn
	for len(p.idle) > 0 && now.Sub(p.idle[0].used) > timeout {
		stale = append(stale, p.idle[0])
		p.idle = p.idle[1:]
	}
	if n := len(p.idle); n > 0 {
		pc = p.idle[n-1]
		p.idle = p.idle[:n-1]
	}
	p.mu.Unlock()
	for _, s := range stale {
		s.c.Close()
	}
	if pc != nil {
		return pc, true, nil
	}
	return p.dial(ctx)
}

func (p *Pool) dial(ctx context.Context) (*poolConn, bool, error) {
	c, err := p.Dial(ctx)
	if err != nil {
		return nil, false, err
	}
	return &poolConn{c: c, br: bufio.NewReaderSize(c, 4096)}, false, nil
}

// put keeps pc for another request, or closes it when the pool is full
// or closed.
func (p *Pool) put(pc *poolConn) {
	max := p.MaxIdle
	if max <= 0 {
		max = DefaultPoolMaxIdle
	}
	pc.used = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= max {
		p.mu.Unlock()
		pc.c.Close()
		return
	}
	p.idle = append(p.idle, pc)
	p.mu.Unlock()
}

// Idle returns how many idle connections p holds.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// CloseIdle closes the idle connections; those in use are closed or
// kept when their request ends, as usual.
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, pc := range idle {
		pc.c.Close()
	}
}

// Close closes the idle connections, and those in use when their
// request ends: nothing is kept from then on.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.CloseIdle()
	return nil
}

// RoundTripPool is RoundTrip over a connection of p: an idle one when p
// has one, else a new one. head asks the backend to keep the connection
// (the protocol says how); a backend that agrees replies with an
// HTTP/1.1 status line, "Connection: keep-alive" and a body framed by
// Content-Length or chunked (or none: HEAD, 204, 304). The connection
// then goes back to p when the response body has been read exactly to
// its end and closed, and the request was sent whole. Any other reply is
// read as RoundTrip reads it, and the connection closed after it.
//
// An idle connection that fails before a byte of reply (the backend
// closed it in the meantime) is retried once on a new connection when
// the request has no body: nothing of it was consumed. Otherwise the
// error stands. Either way p's other idle connections are closed: one
// found dead most often means the backend went away (a worker killed or
// restarted), and its siblings with it.
func (e Exchange) RoundTripPool(p *Pool, req *http.Request, head []byte) (*http.Response, error) {
	noBody := req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0
	for retried := false; ; retried = true {
		pc, reused, err := p.get(req.Context(), retried)
		if err != nil {
			return nil, err
		}
		res, stale, err := e.roundTrip(pc, req, head, p)
		if err != nil && stale && reused {
			p.CloseIdle()
			if noBody && !retried && req.Context().Err() == nil {
				continue
			}
		}
		return res, err
	}
}

// finish ends an exchange whose reply the backend offered to keep the
// connection for: pc goes back to pool when the reply was read to its
// end (ended), the request was sent whole, nothing unasked-for follows
// the reply, and the request's context did not close the connection.
// Otherwise pc is closed.
func (x *exchange) finish(pool *Pool, pc *poolConn, ended bool) {
	if ended {
		ended = sentWhole(x.written) && pc.br.Buffered() == 0
	}
	x.once.Do(func() {
		if x.stop() && ended {
			pool.put(pc)
			return
		}
		x.c.Close()
	})
}

// sentWhole reports whether the request was written without error. The
// body is written concurrently with the reply: a backend that replied
// has read it, so the writer is about done; one that has not finished
// within a moment loses the connection, not the reply.
func sentWhole(written <-chan error) bool {
	select {
	case err := <-written:
		return err == nil
	default:
	}
	t := time.NewTimer(100 * time.Millisecond)
	defer t.Stop()
	select {
	case err := <-written:
		return err == nil
	case <-t.C:
		return false
	}
}

// keptBody is the body of a reply on a connection the backend offered to
// keep: it notes whether it was read exactly to its framed end, and its
// Close hands the connection back (or closes it).
type keptBody struct {
	r      io.Reader // ReadReply's body
	x      *exchange // finished by Close
	pool   *Pool
	pc     *poolConn // pc.br, for a chunked body's last line
	left   int64     // bytes to the end of a Content-Length body; -1 when chunked
	ended  bool
	closed bool
}

func newKeptBody(res *http.Response, x *exchange, pool *Pool, pc *poolConn) *keptBody {
	b := &keptBody{r: res.Body, x: x, pool: pool, pc: pc, left: res.ContentLength}
	if res.TransferEncoding != nil {
		b.left = -1
	}
	b.ended = b.left == 0
	return b
}

var errBodyClosed = errors.New("gateway: read on a closed response body")

func (b *keptBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errBodyClosed
	}
	n, err := b.r.Read(p)
	switch {
	case b.left > 0:
		b.left -= int64(n)
		b.ended = b.left == 0
	case b.left < 0 && err == io.EOF && !b.ended:
		// The last chunk was read; an empty line (no trailers) ends
		// the body.
		line, lerr := b.pc.br.ReadSlice('\n')
		b.ended = lerr == nil && (string(line) == "\r\n" || string(line) == "\n")
		b.left = 0
	}
	return n, err
}

// Close hands the connection back when the body was read to its end,
// and closes it otherwise.
func (b *keptBody) Close() error {
	if !b.closed {
		b.closed = true
		b.x.finish(b.pool, b.pc, b.ended)
	}
	return nil
}
