package fastcgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/conntrack"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/registry"
)

// DefaultMaxConnBytes is the memory budget of a connection when
// Server.MaxConnBytes is zero: room for the largest PARAMS (1 MiB by
// default) and a few bodies waiting for their handlers.
const DefaultMaxConnBytes = 8 << 20

// ErrConnLimit reports a connection closed for going over MaxReqs
// requests in flight or MaxConnBytes of unfinished requests.
var ErrConnLimit = errors.New("fastcgi: connection over its limits")

// ErrRequestAborted is what a handler reads from the request body after the
// client sent FCGI_ABORT_REQUEST; the request's context is cancelled too.
var ErrRequestAborted = errors.New("fastcgi: request aborted by the client")

// Server serves an http.Handler over FastCGI (Responder role). Set Handler
// before calling Serve; a Server is safe for concurrent use.
type Server struct {
	Handler http.Handler
	Logger  *slog.Logger // nil means slog.Default()
	// ReadTimeout bounds each read while a request is being received or
	// served; zero means none.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write; zero means none.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the first request and for the next
	// one on a kept connection; zero means ReadTimeout, or
	// gateway.DefaultIdleTimeout (one minute) when that is zero too. An
	// idle connection is closed quietly.
	IdleTimeout time.Duration
	// HeaderTimeout bounds the wait for a request's PARAMS, from its
	// BEGIN_REQUEST; zero means gateway.DefaultHeaderTimeout (one minute).
	// ReadTimeout, when shorter, bounds it too. A connection past it is
	// closed and logged.
	HeaderTimeout time.Duration
	// MaxParamsBytes limits the PARAMS stream of a request; zero means
	// 1 MiB. Larger requests are answered 431.
	MaxParamsBytes int
	// MaxConns and MaxReqs are announced to FCGI_GET_VALUES; zero means
	// 1000 and 10000. MaxReqs is also enforced on each connection: a
	// BEGIN_REQUEST beyond MaxReqs requests in flight closes the
	// connection (logged).
	MaxConns, MaxReqs int
	// MaxConnBytes bounds what one connection holds in memory for its
	// requests: PARAMS received and STDIN not yet read by a handler. Zero
	// means DefaultMaxConnBytes. A connection that goes over it is closed
	// (logged): many requests with unfinished PARAMS cannot exhaust
	// memory (issue 12).
	MaxConnBytes int

	track conntrack.Tracker
}

// Serve accepts connections on l until Shutdown or Close; it then returns
// http.ErrServerClosed.
//
// At most conntrack.DefaultLimit (10000) connections are open at once;
// more wait in the listen backlog until one closes, and the log says so.
func (s *Server) Serve(l net.Listener) error {
	s.track.SetLogger(s.logger())
	return s.track.Serve(l, s.serveConn)
}

// Shutdown stops accepting, closes idle connections and waits for the
// requests being served until ctx is done; then it closes their
// connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.track.Shutdown(ctx) }

// Close closes the listeners and every connection now.
func (s *Server) Close() error { return s.track.Close() }

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// conn is one client connection. Its goroutine reads records; requests run
// on it (when the body is complete and the connection ends with the
// request) or on goroutines of their own.
type conn struct {
	s   *Server
	nc  net.Conn
	rr  *Reader
	log *slog.Logger

	wmu sync.Mutex // serialises writes
	mu  sync.Mutex // guards reqs and closed
	// reqs are the requests begun and not yet ended, by id.
	reqs   map[uint16]*request
	closed bool
	wg     sync.WaitGroup // request goroutines

	// lingering is set when a request that ends the connection was
	// answered before its STDIN ended: the read loop discards records
	// until lingerID's STDIN ends (gateway.Drain's rule: at most
	// gateway.MaxDrain bytes within gateway.DrainTimeout), then ends.
	lingering atomic.Bool
	lingerID  uint16
	drained   int

	// heading counts the requests whose PARAMS have not all arrived, and
	// headerDeadline is when they must have (guarded by mu).
	heading        int
	headerDeadline time.Time

	// held counts the bytes of PARAMS received and of STDIN not yet read,
	// over all requests of the connection (MaxConnBytes).
	held atomic.Int64
}

// request is one request in flight. The fields above the line belong to
// the reading goroutine.
type request struct {
	id       uint16
	keepConn bool
	headed   bool // PARAMS complete, or refused (guarded by conn.mu)
	params   []byte
	refused  bool // answered already (bad params); records are ignored
	// unknownLen: no CONTENT_LENGTH; the body is the STDIN stream.
	unknownLen bool
	// ---
	body    *stdin
	cancel  context.CancelFunc
	aborted atomic.Bool
	// writeDeadline, set through http.ResponseController, replaces
	// WriteTimeout for this request's writes (guarded by conn.wmu).
	writeDeadline time.Time
}

// readerPool holds a record Reader and its bufio.Reader per idle slot, so
// a connection costs no buffer allocation.
var readerPool = sync.Pool{New: func() any { return NewReader(bufio.NewReaderSize(nil, 16<<10)) }}

func (s *Server) serveConn(nc net.Conn) {
	rr := readerPool.Get().(*Reader)
	br := rr.r
	br.Reset(nc)
	c := &conn{s: s, nc: nc, rr: rr, log: s.logger(), reqs: make(map[uint16]*request, 1)}
	defer func() {
		c.mu.Lock()
		c.closed = true
		for _, r := range c.reqs {
			// The web server is gone: the read loop is the close
			// watch of a kept connection.
			if r.body != nil {
				r.body.fail(io.ErrUnexpectedEOF)
			}
			if r.cancel != nil {
				r.cancel()
			}
		}
		c.mu.Unlock()
		c.wg.Wait()
		br.Reset(nil)
		rr.Reset(br)
		readerPool.Put(rr)
	}()
	if err := c.readLoop(); err != nil && !errors.Is(err, net.ErrClosed) {
		c.log.Warn("fastcgi connection", "remote_addr", nc.RemoteAddr().String(), "err", err)
	}
}

// readLoop reads records until the connection ends. It returns nil for a
// normal end.
func (c *conn) readLoop() error {
	var pending *request // params complete, not yet dispatched
	first := true
	for {
		if pending != nil && (pending.body.complete() || !c.nextBuffered() || pending.body.waiting() > maxStdin/2) {
			r := pending
			pending = nil
			if r.body.complete() && !r.keepConn && c.activeCount() == 1 {
				// The usual nginx request: everything has arrived and
				// the connection ends with it. Serve it right here.
				r.lengthFromStdin()
				if c.rr.Buffered() == 0 {
					// Nothing more should come: a read that ends
					// means the client went away, and the handler's
					// context is cancelled, as net/http's is.
					gateway.WatchClose(c.nc, c.nc, r.cancel)
				}
				c.serveRequest(r)
				return nil
			}
			c.dispatch(r)
		}
		c.setReadDeadline()
		if first {
			hb, err := c.rr.r.Peek(2)
			if len(hb) > 0 {
				if m := registry.Mismatch("fastcgi", hb); m != "" {
					c.log.Warn(m, "remote_addr", c.nc.RemoteAddr().String())
					return nil
				}
			}
			if err != nil {
				if len(hb) > 0 {
					return io.ErrUnexpectedEOF
				}
				return nil
			}
			first = false
		}
		if err := c.rr.Next(); err != nil {
			var ne net.Error
			if err == io.EOF || c.isClosed() || errors.As(err, &ne) && ne.Timeout() && c.activeCount() == 0 {
				return nil // the end, or the idle timeout
			}
			return err
		}
		h := c.rr.Header
		content := c.rr.Content
		if h.ID == 0 {
			if err := c.management(h.Type, content); err != nil {
				return err
			}
			continue
		}
		switch h.Type {
		case TypeBeginRequest:
			if err := c.begin(h.ID, content); err != nil {
				return err
			}
		case TypeParams:
			r := c.lookup(h.ID)
			if r == nil || r.refused || r.body != nil {
				continue
			}
			if len(content) > 0 {
				if len(r.params)+len(content) > c.maxParams() {
					c.headDone(r)
					c.held.Add(-int64(len(r.params)))
					r.params = nil
					r.refused = true
					c.log.Warn("bad request", "remote_addr", c.nc.RemoteAddr().String(), "err", "fastcgi: PARAMS over the limit")
					if err := c.refuse(r, http.StatusRequestHeaderFieldsTooLarge); err != nil {
						return err
					}
					continue
				}
				if err := c.hold(len(content)); err != nil {
					return err
				}
				r.params = append(r.params, content...)
				continue
			}
			c.headDone(r)
			if err := c.prepare(r); err != nil {
				c.log.Warn("bad request", "remote_addr", c.nc.RemoteAddr().String(), "err", err)
				r.refused = true
				if err := c.refuse(r, http.StatusBadRequest); err != nil {
					return err
				}
				continue
			}
			if pending != nil {
				// Another request of this connection is ready too:
				// the first one waits no longer.
				c.dispatch(pending)
			}
			pending = r
		case TypeStdin:
			if c.lingering.Load() && h.ID == c.lingerID {
				c.drained += len(content)
				if len(content) == 0 || c.drained > gateway.MaxDrain {
					return nil // the body is drained: close
				}
				continue
			}
			r := c.lookup(h.ID)
			if r == nil || r.body == nil {
				continue // before PARAMS ended, or refused: dropped
			}
			if err := c.hold(len(content)); err != nil {
				return err
			}
			if len(content) == 0 {
				r.body.end()
			} else if !r.body.write(content) {
				// The handler is done with its body: the rest is
				// dropped.
				continue
			}
		case TypeAbortRequest:
			r := c.lookup(h.ID)
			if r == nil {
				continue
			}
			c.abort(r, pending == r)
			if pending == r {
				pending = nil
			}
		default:
			// Other types make no sense from a client; ignore them.
		}
	}
}

// dispatch runs r's handler on a goroutine of its own.
func (c *conn) dispatch(r *request) {
	r.lengthFromStdin()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.serveRequest(r)
	}()
}

func (c *conn) maxParams() int {
	if c.s.MaxParamsBytes > 0 {
		return c.s.MaxParamsBytes
	}
	return 1 << 20
}

// hold counts n more bytes held for the connection's requests, and fails
// when that goes over MaxConnBytes.
func (c *conn) hold(n int) error {
	limit := int64(orDefault(c.s.MaxConnBytes, DefaultMaxConnBytes))
	if held := c.held.Add(int64(n)); held > limit {
		return fmt.Errorf("%w: %d bytes of unfinished requests, limit %d", ErrConnLimit, held, limit)
	}
	return nil
}

func (c *conn) setReadDeadline() {
	if c.lingering.Load() {
		return // Drain's deadline holds
	}
	c.mu.Lock()
	n, heading, hd := len(c.reqs), c.heading, c.headerDeadline
	c.mu.Unlock()
	var dl time.Time
	switch {
	case heading > 0:
		dl = hd
	case n == 0:
		dl = time.Now().Add(gateway.IdleTimeout(c.s.IdleTimeout, c.s.ReadTimeout))
	case c.s.ReadTimeout > 0:
		dl = time.Now().Add(c.s.ReadTimeout)
	}
	c.nc.SetReadDeadline(dl)
}

// headDone notes that r's PARAMS are complete (or refused): the header
// timeout no longer applies to it, and the requests still receiving
// theirs get a fresh one.
func (c *conn) headDone(r *request) {
	c.mu.Lock()
	c.headDoneLocked(r)
	c.mu.Unlock()
}

func (c *conn) headDoneLocked(r *request) {
	if r.headed {
		return
	}
	r.headed = true
	if c.heading--; c.heading > 0 {
		c.headerDeadline = time.Now().Add(gateway.HeaderTimeout(c.s.HeaderTimeout, c.s.ReadTimeout))
	}
}

// nextBuffered reports whether a whole record is already buffered, so
// reading it will not block.
func (c *conn) nextBuffered() bool {
	n := c.rr.r.Buffered()
	if n < HeaderSize {
		return false
	}
	hb, _ := c.rr.r.Peek(HeaderSize)
	h := ParseHeader(hb)
	return n >= HeaderSize+int(h.ContentLength)+int(h.PaddingLength)
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *conn) activeCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reqs)
}

func (c *conn) lookup(id uint16) *request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reqs[id]
}

func (c *conn) begin(id uint16, content []byte) error {
	b, err := ParseBeginRequest(content)
	if err != nil {
		return err
	}
	if b.Role != RoleResponder {
		return c.write(AppendEndRequest(nil, id, EndRequest{ProtocolStatus: StatusUnknownRole}), nil)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.reqs[id]; dup {
		return nil // the specification says to ignore it
	}
	if max := orDefault(c.s.MaxReqs, 10000); len(c.reqs) >= max {
		return fmt.Errorf("%w: more than %d requests in flight", ErrConnLimit, max)
	}
	c.reqs[id] = &request{id: id, keepConn: b.KeepConn()}
	if c.heading++; c.heading == 1 {
		c.headerDeadline = time.Now().Add(gateway.HeaderTimeout(c.s.HeaderTimeout, c.s.ReadTimeout))
	}
	if len(c.reqs) == 1 {
		c.s.track.SetBusy(c.nc, true)
	}
	return nil
}

// prepare parses the params of r and makes its body.
func (c *conn) prepare(r *request) error {
	vars := make([]cgivars.Pair, 0, 32)
	err := ParsePairs(r.params, func(name, value string) error {
		vars = append(vars, cgivars.Pair{Name: name, Value: value})
		return nil
	})
	c.held.Add(-int64(len(r.params)))
	r.params = nil
	if err != nil {
		return err
	}
	r.body = newStdin(&c.held)
	req, err := cgivars.ToRequest(vars, r.body)
	if err != nil {
		r.body = nil
		return err
	}
	if req.RemoteAddr == "" {
		req.RemoteAddr = c.nc.RemoteAddr().String()
	}
	if v, _ := cgivars.Get(vars, "CONTENT_LENGTH"); strings.TrimSpace(v) == "" {
		// FastCGI frames the body itself: nginx with
		// fastcgi_request_buffering off streams a chunked upload as
		// STDIN with an empty CONTENT_LENGTH. Whether there is a body
		// is settled at dispatch (lengthFromStdin).
		r.unknownLen = true
	}
	ctx, cancel := context.WithCancel(req.Context())
	r.cancel = cancel
	r.body.req = req.WithContext(ctx)
	return nil
}

// lengthFromStdin sets the body of a request that came without a
// CONTENT_LENGTH from its STDIN stream: none when the stream ended empty,
// its length when it has ended, else unknown (-1) and read as it comes.
func (r *request) lengthFromStdin() {
	if !r.unknownLen {
		return
	}
	req := r.body.req
	done, n := r.body.state()
	switch {
	case done && n == 0:
		return
	case done:
		req.ContentLength = int64(n)
		req.Header.Set("Content-Length", strconv.Itoa(n))
	default:
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
	}
	req.Body = io.NopCloser(r.body)
}

// management answers a record with request id 0.
func (c *conn) management(t RecordType, content []byte) error {
	if t != TypeGetValues {
		return c.write(AppendUnknownType(nil, t), nil)
	}
	var out []Pair
	err := ParsePairs(content, func(name, _ string) error {
		switch name {
		case MaxConnsVar:
			out = append(out, Pair{Name: name, Value: strconv.Itoa(orDefault(c.s.MaxConns, 1000))})
		case MaxReqsVar:
			out = append(out, Pair{Name: name, Value: strconv.Itoa(orDefault(c.s.MaxReqs, 10000))})
		case MpxsConnsVar:
			out = append(out, Pair{Name: name, Value: "1"})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.write(AppendRecord(nil, TypeGetValuesResult, 0, AppendPairs(nil, out)), nil)
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// abort handles FCGI_ABORT_REQUEST: the handler's context is cancelled and
// its body fails; a request not started yet ends at once.
func (c *conn) abort(r *request, notStarted bool) {
	r.aborted.Store(true)
	if r.cancel != nil {
		r.cancel()
	}
	if r.body != nil {
		r.body.fail(ErrRequestAborted)
	}
	if notStarted || r.body == nil {
		c.end(r, nil, 0)
	}
}

// refuse answers r with an error status and ends it.
func (c *conn) refuse(r *request, code int) error {
	out := &stdout{c: c, r: r, out: make([]byte, HeaderSize, 512)}
	w := gateway.NewWriter(nil, gateway.CGIHead, out)
	w.Error(code)
	return c.end(r, out.final(), 0)
}

// end removes r from the connection and writes out (the last of its
// output), an empty STDOUT, and END_REQUEST in one write. When r did not
// ask to keep the connection, or the server is shutting down, the
// connection is closed after.
func (c *conn) end(r *request, out []byte, appStatus uint32) error {
	c.mu.Lock()
	delete(c.reqs, r.id)
	idle := len(c.reqs) == 0
	c.headDoneLocked(r)
	c.mu.Unlock()
	out = AppendRecord(out, TypeStdout, r.id, nil)
	out = AppendEndRequest(out, r.id, EndRequest{AppStatus: appStatus})
	err := c.write(out, r)
	switch {
	case !r.keepConn && err == nil && r.body != nil && !r.body.complete() && !r.aborted.Load():
		c.linger(r.id)
	case idle && !c.s.track.SetBusy(c.nc, false) || !r.keepConn:
		c.closeConn()
	case idle:
		// The read loop waits for the next request under the
		// deadline it set while this one ran (none without a
		// ReadTimeout): the idle timeout starts now.
		c.setReadDeadline()
	}
	return err
}

// linger ends a connection whose last request was answered before the
// web server finished sending its body: closing now, with input unread,
// would reset the connection under the reply (nginx: "readv() failed
// (104: Connection reset by peer)"). The write side is half-closed and
// the read loop discards the rest of the body, as gateway.Drain does.
func (c *conn) linger(id uint16) {
	c.lingerID = id
	c.lingering.Store(true)
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(gateway.DrainTimeout))
}

func (c *conn) closeConn() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.nc.Close()
}

// write writes b for request r (nil: a management record), under r's
// write deadline or WriteTimeout.
func (c *conn) write(b []byte, r *request) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if r != nil && !r.writeDeadline.IsZero() {
		c.nc.SetWriteDeadline(r.writeDeadline)
	} else if c.s.WriteTimeout > 0 {
		c.nc.SetWriteDeadline(time.Now().Add(c.s.WriteTimeout))
	}
	_, err := c.nc.Write(b)
	return err
}

var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// serveRequest runs the handler for r and ends the request.
func (c *conn) serveRequest(r *request) {
	req := r.body.req
	bp := outPool.Get().(*[]byte)
	out := &stdout{c: c, r: r, out: (*bp)[:HeaderSize]}
	w := gateway.NewWriter(req, gateway.CGIHead, out)
	w.Conn, w.OnError = deadlines{c, r}, r.cancel
	defer func() {
		r.cancel()
		r.body.close()
		if cap(out.out) <= 64<<10 {
			*bp = out.out[:0]
			outPool.Put(bp)
		}
	}()
	if err := gateway.Run(c.s.Handler, w, req, c.log); err != nil {
		c.log.Warn("request ended early", "remote_addr", req.RemoteAddr, "method", req.Method, "path", req.URL.Path, "err", err)
		if r.aborted.Load() {
			c.end(r, nil, 0)
		} else {
			c.closeConn() // the client must not take a cut response as whole
		}
		return
	}
	if r.aborted.Load() {
		c.end(r, nil, 0)
		return
	}
	if err := w.Finish(); err != nil {
		c.closeConn()
		return
	}
	if err := c.end(r, out.final(), 0); err != nil {
		c.log.Debug("write response", "remote_addr", req.RemoteAddr, "err", err)
	}
}

// deadlines are what http.ResponseController reaches for one request: its
// writes' deadline, and its body's.
type deadlines struct {
	c *conn
	r *request
}

func (d deadlines) SetReadDeadline(t time.Time) error {
	d.r.body.setDeadline(t)
	return nil
}

func (d deadlines) SetWriteDeadline(t time.Time) error {
	d.c.wmu.Lock()
	d.r.writeDeadline = t
	d.c.wmu.Unlock()
	return nil
}

// stdin is a request body fed by the reading goroutine. Up to maxStdin
// bytes wait in memory; past that the reader waits for the handler.
type stdin struct {
	req    *http.Request
	held   *atomic.Int64 // the connection's count of bytes held
	mu     sync.Mutex
	cond   sync.Cond
	buf    []byte
	off    int
	done   bool  // empty STDIN seen
	closed bool  // handler finished: drop further input
	err    error // abort or connection loss
	// expired is set when the read deadline passes; timer and gen
	// implement it (a timer of an older deadline is ignored).
	expired bool
	timer   *time.Timer
	gen     int
}

const maxStdin = 1 << 20

func newStdin(held *atomic.Int64) *stdin {
	b := &stdin{held: held}
	b.cond.L = &b.mu
	return b
}

// state reports whether the stream has ended and how many bytes wait.
func (b *stdin) state() (done bool, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done, len(b.buf) - b.off
}

// waiting returns the number of bytes not read yet.
func (b *stdin) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buf) - b.off
}

func (b *stdin) complete() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// write appends p (copied); it blocks while too much is waiting, and
// reports false once the handler no longer wants the body.
func (b *stdin) write(p []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.buf)-b.off > maxStdin && !b.closed && b.err == nil {
		b.cond.Wait()
	}
	if b.closed || b.err != nil || b.done {
		b.held.Add(-int64(len(p)))
		return false
	}
	if b.off > 0 && b.off == len(b.buf) {
		b.buf, b.off = b.buf[:0], 0
	}
	b.buf = append(b.buf, p...)
	b.cond.Broadcast()
	return true
}

func (b *stdin) end() {
	b.mu.Lock()
	b.done = true
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (b *stdin) fail(err error) {
	b.mu.Lock()
	if b.err == nil && !b.done {
		b.err = err
	}
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (b *stdin) close() {
	b.mu.Lock()
	b.closed = true
	b.held.Add(-int64(len(b.buf) - b.off))
	b.buf, b.off = nil, 0
	b.cond.Broadcast()
	b.mu.Unlock()
}

// setDeadline makes Read fail with os.ErrDeadlineExceeded from t on;
// the zero t means no deadline.
func (b *stdin) setDeadline(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.gen++
	b.expired = !t.IsZero() && !t.After(time.Now())
	if t.IsZero() || b.expired {
		b.cond.Broadcast()
		return
	}
	gen := b.gen
	b.timer = time.AfterFunc(time.Until(t), func() {
		b.mu.Lock()
		if b.gen == gen {
			b.expired = true
			b.cond.Broadcast()
		}
		b.mu.Unlock()
	})
}

func (b *stdin) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.off == len(b.buf) {
		if b.done {
			return 0, io.EOF
		}
		if b.expired {
			return 0, os.ErrDeadlineExceeded
		}
		if b.err != nil {
			return 0, b.err
		}
		if b.closed {
			return 0, http.ErrBodyReadAfterClose
		}
		b.cond.Wait()
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	b.held.Add(-int64(n))
	if len(b.buf)-b.off <= maxStdin {
		b.cond.Broadcast()
	}
	return n, nil
}

// stdout is the gateway.Sink of one request's reply: STDOUT records of up
// to recordFill bytes, sent when full or flushed. out holds the record
// being filled, its header reserved at the front.
type stdout struct {
	c   *conn
	r   *request
	out []byte
}

const recordFill = 32 << 10 // payload at which a STDOUT record is sent

func (s *stdout) Write(p []byte) (int, error) { return put(s, p) }

func (s *stdout) WriteString(p string) (int, error) { return put(s, p) }

func put[T string | []byte](s *stdout, p T) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(recordFill-(len(s.out)-HeaderSize), len(p))
		s.out = append(s.out, p[:k]...)
		p = p[k:]
		if len(s.out)-HeaderSize >= recordFill {
			if err := s.Flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// Flush sends the record being filled, if it holds anything.
func (s *stdout) Flush() error {
	if len(s.out) == HeaderSize {
		return nil
	}
	s.closeRecord()
	err := s.c.write(s.out, s.r)
	s.out = s.out[:HeaderSize]
	return err
}

// closeRecord fills in the header of the record in out and pads it.
func (s *stdout) closeRecord() {
	n := len(s.out) - HeaderSize
	p := pad(n)
	id := s.r.id
	copy(s.out, []byte{Version1, byte(TypeStdout), byte(id >> 8), byte(id), byte(n >> 8), byte(n), byte(p), 0})
	s.out = append(s.out, zeros[:p]...)
}

var zeros [8]byte

// final returns what is left of the output, a closed record or nothing,
// for end to send with END_REQUEST in one write.
func (s *stdout) final() []byte {
	if len(s.out) == HeaderSize {
		return s.out[:0]
	}
	s.closeRecord()
	return s.out
}

var _ gateway.Sink = (*stdout)(nil)
