package gateway

// This file is the client side of a connection kept for more than one
// request: gopaste's own uwsgi workers agree to it (docs/protocols.md,
// "uwsgi keep-alive"); other backends close after each reply as before.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Defaults of a Pool.
const (
	DefaultPoolMaxIdle     = 2
	DefaultPoolIdleTimeout = 30 * time.Second
)

// Pool holds the connections to one backend that are kept for more than
// one request: the FastCGI client's (FCGI_KEEP_CONN) and the uwsgi
// client's toward gopaste's own workers ([Exchange.RoundTripPool]). It
// can bound the connections open at once, busy and idle together: a
// backend with a process or a thread per connection (PHP-FPM, the Python
// worker) must never get more connections than it serves, or an idle one
// pins a worker while a new one waits in its backlog. A request beyond
// the bound waits, in order, for a connection to come back. It is safe
// for concurrent use; the zero value (with Dial set) is ready to use.
type Pool struct {
	// Dial opens a new connection to the backend.
	Dial func(ctx context.Context) (net.Conn, error)
	// MaxConns bounds the connections open or being dialed; zero means
	// no bound.
	MaxConns int
	// MaxIdle bounds the idle connections kept; zero means MaxConns, or
	// DefaultPoolMaxIdle without one.
	MaxIdle int
	// IdleTimeout is how long an idle connection may be reused; zero
	// means DefaultPoolIdleTimeout, less than the servers' idle limit
	// (DefaultIdleTimeout, one minute), so that the client gives up a
	// connection before the server does.
	IdleTimeout time.Duration
	// ReadBufferSize is the size of each connection's reader; zero means
	// 4096.
	ReadBufferSize int
	// Alive, when set, is asked about an idle connection before it is
	// reused; a connection it refuses is closed.
	Alive func(*PoolConn) bool
	// Pipeline is how many GET or HEAD requests without a body may be
	// written on a busy connection, behind the bodiless request running
	// there, when MaxConns are open and none is idle, instead of
	// waiting for a connection to come back: the backend reads the
	// next one the moment it has answered, rather than after gopaste
	// has read that answer and sent the next request. Zero means none.
	// Only for backends that read the requests of a kept connection in
	// order and answer each in full before the next (gopaste's uwsgi
	// Server and Python worker); see [Exchange.RoundTripPool] and
	// docs/protocols.md.
	Pipeline int

	mu      sync.Mutex
	open    int              // connections open or being dialed
	idle    []*PoolConn      // newest last
	waiters []chan *PoolConn // requests waiting for a connection, first first
	// With Pipeline: connections in use whose bodiless request is
	// written, oldest first.
	ready  []*PoolConn
	closed bool
}

// PoolConn is a connection of a Pool with the reader of its replies, which
// a kept connection keeps from one request to the next.
type PoolConn struct {
	Conn   net.Conn
	Reader *bufio.Reader
	// Reused says the connection served a request before this one.
	Reused bool
	used   time.Time // when it went idle
	// bodiless: its last reply had no body (HEAD, 204, 304), after
	// which a faulty backend may still send one; PeekAlive then always
	// looks for those bytes.
	bodiless bool
	// behind are the requests written behind this one's, first first
	// (Pipeline), guarded by Pool.mu.
	behind []*turn
}

// turn is a request written on a busy connection behind the request
// running there (Pool.Pipeline). It waits for that request to end: the
// connection is then handed over, or closed under it.
type turn struct {
	ch        chan bool // true: the connection is the waiter's now; false: closed
	abandoned bool      // the waiter left (guarded by Pool.mu)
}

// ErrNotServed is returned for a request written behind another on a
// kept connection (Pool.Pipeline) when that connection ended before its
// turn: the backend did not answer it, and it can be sent again, to
// the same backend or another.
var ErrNotServed = errors.New("gateway: request not served: the connection it waited on was closed before its turn")

// Get returns an idle connection, or a new one; with fresh, always a new
// one. With MaxConns open it waits for one to come back, or for ctx.
func (p *Pool) Get(ctx context.Context, fresh bool) (*PoolConn, error) {
	timeout := p.IdleTimeout
	if timeout <= 0 {
		timeout = DefaultPoolIdleTimeout
	}
	p.mu.Lock()
	var stale []*PoolConn
	for len(p.idle) > 0 && time.Since(p.idle[0].used) > timeout {
		stale = append(stale, p.idle[0])
		p.idle = p.idle[1:]
		p.open--
	}
	for !fresh && len(p.idle) > 0 {
		pc := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.mu.Unlock()
		// Alive may wait a moment: not under the lock.
		if p.Alive == nil || p.Alive(pc) {
			closeAll(stale)
			pc.Reused = true
			return pc, nil
		}
		pc.Conn.Close()
		p.mu.Lock()
		p.open--
	}
	if p.MaxConns <= 0 || p.open < p.MaxConns {
		p.open++
		p.mu.Unlock()
		closeAll(stale)
		return p.dialSlot(ctx)
	}
	ch := make(chan *PoolConn, 1)
	p.waiters = append(p.waiters, ch)
	p.mu.Unlock()
	closeAll(stale)
	select {
	case pc := <-ch:
		if pc == nil || fresh {
			if pc != nil {
				pc.Conn.Close() // its slot is ours to dial
			}
			return p.dialSlot(ctx)
		}
		pc.Reused = true
		return pc, nil
	case <-ctx.Done():
		p.mu.Lock()
		for i, w := range p.waiters {
			if w == ch {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				break
			}
		}
		p.mu.Unlock()
		select {
		case pc := <-ch: // handed over as we gave up: pass it on
			if pc == nil {
				p.Put(&PoolConn{}, false)
			} else {
				p.Put(pc, true)
			}
		default:
		}
		return nil, ctx.Err()
	}
}

// behind returns a busy connection on which a request can be written
// behind the one running (Pipeline), and the turn it then waits for;
// nil when there is none, or when a connection is idle or can be
// opened (Get does not wait for those).
func (p *Pool) behind() (*PoolConn, *turn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Pipeline <= 0 || len(p.idle) > 0 || p.MaxConns <= 0 || p.open < p.MaxConns {
		return nil, nil
	}
	var pc *PoolConn
	for _, o := range p.ready {
		if len(o.behind) < p.Pipeline && (pc == nil || len(o.behind) < len(pc.behind)) {
			pc = o
		}
	}
	if pc == nil {
		return nil, nil
	}
	t := &turn{ch: make(chan bool, 1)}
	pc.behind = append(pc.behind, t)
	return pc, t
}

// written notes that pc's request, which has no body, is written whole:
// with Pipeline, more requests can be written behind it.
func (p *Pool) written(pc *PoolConn) {
	p.mu.Lock()
	p.ready = append(p.ready, pc)
	p.mu.Unlock()
}

// wait waits for t, the turn of a request written on pc: it returns
// once pc is the caller's, or an error when pc was closed first
// (ErrNotServed) or ctx ended (pc, with the reply to the request, is
// then closed when its turn comes).
func (p *Pool) wait(ctx context.Context, pc *PoolConn, t *turn) error {
	select {
	case ok := <-t.ch:
		if !ok {
			return ErrNotServed
		}
		pc.Reused = true
		return nil
	case <-ctx.Done():
	}
	p.abandon(pc, t)
	return ctx.Err()
}

// abandon gives up turn t on pc: pc is closed when its turn comes, or
// now if it came already.
func (p *Pool) abandon(pc *PoolConn, t *turn) {
	p.mu.Lock()
	t.abandoned = true
	p.mu.Unlock()
	select {
	case ok := <-t.ch: // handed over as we gave up
		if ok {
			p.Put(pc, false)
		}
	default:
	}
}

func closeAll(pcs []*PoolConn) {
	for _, pc := range pcs {
		pc.Conn.Close()
	}
}

// dialSlot dials for a slot already counted in p.open.
func (p *Pool) dialSlot(ctx context.Context) (*PoolConn, error) {
	c, err := p.Dial(ctx)
	if err != nil {
		p.Put(&PoolConn{}, false)
		return nil, err
	}
	size := p.ReadBufferSize
	if size <= 0 {
		size = 4096
	}
	return &PoolConn{Conn: c, Reader: bufio.NewReaderSize(c, size)}, nil
}

// Put ends pc's request: when reusable, pc goes to the first waiting
// request or is kept idle (unless the pool is closed or full); otherwise
// it is closed and its slot goes to the first waiting request. A PoolConn
// without Conn gives back its slot only.
func (p *Pool) Put(pc *PoolConn, reusable bool) {
	p.put(pc, reusable, true)
}

// put is Put; clean says nothing was read past the reply's end. Bytes
// past it are the next reply when a request waits behind (Pipeline),
// which then gets the connection; otherwise they make it unusable.
func (p *Pool) put(pc *PoolConn, reusable, clean bool) {
	p.mu.Lock()
	maxIdle := p.MaxIdle // under mu: SetMaxConns changes it
	if maxIdle <= 0 {
		maxIdle = p.MaxConns
	}
	if maxIdle <= 0 {
		maxIdle = DefaultPoolMaxIdle
	}
	if p.Pipeline > 0 && pc.Conn != nil {
		p.ready = slices.DeleteFunc(p.ready, func(o *PoolConn) bool { return o == pc })
		if len(pc.behind) > 0 {
			t := pc.behind[0]
			if reusable && !p.closed && !t.abandoned {
				// The next request is written and has no body: it
				// runs now, and more can follow it.
				pc.behind = pc.behind[1:]
				p.ready = append(p.ready, pc)
				t.ch <- true // buffered: the waiter reads the reply it waits for
				p.mu.Unlock()
				return
			}
			for _, t := range pc.behind {
				if !t.abandoned {
					t.ch <- false
				}
			}
			pc.behind = nil
			reusable = false
		}
	}
	reusable = reusable && clean
	if pc.Conn == nil || p.closed || !reusable || len(p.waiters) == 0 && len(p.idle) >= maxIdle {
		if pc.Conn != nil {
			pc.Conn.Close()
		}
		if len(p.waiters) > 0 {
			w := p.waiters[0]
			p.waiters = p.waiters[1:]
			p.mu.Unlock()
			w <- nil // the slot is theirs to dial
			return
		}
		p.open--
		p.mu.Unlock()
		return
	}
	if len(p.waiters) > 0 {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.mu.Unlock()
		w <- pc
		return
	}
	pc.used = time.Now()
	p.idle = append(p.idle, pc)
	p.mu.Unlock()
}

// SetMaxConns sets MaxConns and MaxIdle of a pool in use to n, for a
// backend whose concurrency changed while it runs (the wsgi app's
// preloading master, when it forks a child more or stops one). Requests
// waiting for a connection dial the new room at once; connections over
// a lower bound close as their requests end.
func (p *Pool) SetMaxConns(n int) {
	p.mu.Lock()
	p.MaxConns, p.MaxIdle = n, n
	var dial []chan *PoolConn
	for len(p.waiters) > 0 && (n <= 0 || p.open < n) {
		p.open++
		dial = append(dial, p.waiters[0])
		p.waiters = p.waiters[1:]
	}
	p.mu.Unlock()
	for _, w := range dial {
		w <- nil // the slot is theirs to dial
	}
}

// Idle returns how many idle connections p holds.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// Open returns how many connections p has open or being dialed, busy and
// idle together.
func (p *Pool) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

// Pipelined returns, with Pipeline, how many busy connections can take
// a request behind the one running (ready), and how many requests wait
// behind others (behind).
func (p *Pool) Pipelined() (ready, behind int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pc := range p.ready {
		behind += len(pc.behind)
	}
	return len(p.ready), behind
}

// CloseIdle closes the idle connections; those in use are closed or
// kept when their request ends, as usual.
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.open -= len(idle)
	p.mu.Unlock()
	closeAll(idle)
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

// Pools keeps a transport's Pool per backend address. The zero value is
// ready to use; it is safe for concurrent use.
type Pools struct {
	mu sync.Mutex
	m  map[string]*Pool
}

// For returns the pool of addr, made by newPool the first time (when
// newPool is nil, For returns nil for an address it has no pool of).
func (ps *Pools) For(addr string, newPool func() *Pool) *Pool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p := ps.m[addr]; p != nil || newPool == nil {
		return p
	}
	if ps.m == nil {
		ps.m = map[string]*Pool{}
	}
	p := newPool()
	ps.m[addr] = p
	return p
}

// CloseIdle closes every pool's idle connections.
func (ps *Pools) CloseIdle() {
	for _, p := range ps.all() {
		p.CloseIdle()
	}
}

// Close closes every pool (see Pool.Close).
func (ps *Pools) Close() error {
	for _, p := range ps.all() {
		p.Close()
	}
	return nil
}

// Update calls f with every pool made so far, under the lock For makes
// new pools under: what f changes in the settings a newPool reads holds
// for the pools made after it too.
func (ps *Pools) Update(f func(all []*Pool)) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	all := make([]*Pool, 0, len(ps.m))
	for _, p := range ps.m {
		all = append(all, p)
	}
	f(all)
}

func (ps *Pools) all() []*Pool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	all := make([]*Pool, 0, len(ps.m))
	for _, p := range ps.m {
		all = append(all, p)
	}
	return all
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
//
// With p.Pipeline, a GET or HEAD without a body may be written behind
// the request running on a busy connection (see Pool.Pipeline); when
// that connection ends before its turn, the error wraps ErrNotServed.
func (e Exchange) RoundTripPool(p *Pool, req *http.Request, head []byte) (*http.Response, error) {
	noBody := req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0
	if noBody && p.Pipeline > 0 && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		if pc, t := p.behind(); pc != nil {
			return e.roundTripBehind(p, pc, t, req, head)
		}
	}
	for retried := false; ; retried = true {
		pc, err := p.Get(req.Context(), retried)
		if err != nil {
			return nil, err
		}
		res, stale, err := e.roundTrip(pc, req, head, p)
		if err != nil && stale && pc.Reused {
			p.CloseIdle()
			if noBody && !retried && req.Context().Err() == nil && (!e.HTTP || replayable(req)) {
				continue
			}
		}
		return res, err
	}
}

// roundTripBehind writes req on pc, behind the request running there,
// and reads its reply once pc is handed over.
func (e Exchange) roundTripBehind(p *Pool, pc *PoolConn, t *turn, req *http.Request, head []byte) (*http.Response, error) {
	ctx := req.Context()
	if _, err := pc.Conn.Write(head); err != nil {
		// Not whole, or not at all: the backend cannot answer it. The
		// connection is closed when the request ahead ends.
		p.abandon(pc, t)
		return nil, fmt.Errorf("%w (%w)", ErrNotServed, err)
	}
	if err := p.wait(ctx, pc, t); err != nil {
		return nil, err
	}
	res, _, err := e.roundTrip(pc, req, nil, p)
	return res, err
}

// finish ends an exchange whose reply the backend offered to keep the
// connection for: pc goes back to pool when the reply was read to its
// end (ended), the request was sent whole, nothing unasked-for follows
// the reply, and the request's context did not close the connection.
// Otherwise pc is closed. A body is written concurrently with the
// reply: a backend that replied has read it, so the writer is about
// done; one that has not finished within a moment loses the connection,
// not the reply.
func (x *exchange) finish(pool *Pool, pc *PoolConn, ended bool) {
	x.once.Do(func() {
		// Once: the outcome of the write is received only once.
		if ended {
			err, done := x.sent(100 * time.Millisecond)
			ended = done && err == nil
		}
		pool.put(pc, x.stop() && ended, pc.Reader.Buffered() == 0)
	})
}

// keptBody is the body of a reply on a connection the backend offered to
// keep: it notes whether it was read exactly to its framed end, and its
// Close hands the connection back (or closes it).
type keptBody struct {
	r      io.Reader // ReadReply's body
	x      *exchange // finished by Close
	pool   *Pool
	pc     *PoolConn // pc.Reader, for a chunked body's last line
	left   int64     // bytes to the end of a Content-Length body; -1 when chunked
	ended  bool
	done   bool // ended, and the connection handed back
	closed bool
}

// newKeptBody returns the body of res, read over x: x's own keptBody,
// which costs no allocation of its own.
func newKeptBody(res *http.Response, x *exchange, pool *Pool, pc *PoolConn) *keptBody {
	b := &x.kept
	*b = keptBody{r: res.Body, x: x, pool: pool, pc: pc, left: res.ContentLength}
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
	if b.done {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	switch {
	case b.left > 0:
		b.left -= int64(n)
		b.ended = b.left == 0
	case b.left < 0 && err == io.EOF && !b.ended:
		b.left = 0
		if ended, ok := chunkedEnd(b.r); ok {
			b.ended = ended // an HTTP reply's trailers were read
			break
		}
		// The last chunk was read; an empty line (no trailers) ends
		// the body.
		line, lerr := b.pc.Reader.ReadSlice('\n')
		b.ended = lerr == nil && (string(line) == "\r\n" || string(line) == "\n")
	}
	if b.ended {
		// The reply has ended: its connection goes back now, with the
		// last bytes, rather than at Close, so that the next request
		// can use it while this reply is still being written to its
		// client.
		b.done = true
		b.x.finish(b.pool, b.pc, true)
		if err == nil {
			err = io.EOF
		}
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
