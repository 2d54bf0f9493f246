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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/conntrack"
	"github.com/gopaste/gopaste/registry"
)

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
	// IdleTimeout bounds the wait for the next request on a kept
	// connection; zero means ReadTimeout.
	IdleTimeout time.Duration
	// MaxParamsBytes limits the PARAMS stream of a request; zero means
	// 1 MiB. Larger requests are answered 431.
	MaxParamsBytes int
	// MaxConns and MaxReqs are announced to FCGI_GET_VALUES; zero means
	// 1000 and 10000.
	MaxConns, MaxReqs int

	track conntrack.Tracker
}

// Serve accepts connections on l until Shutdown or Close; it then returns
// http.ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
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
}

// request is one request in flight. The fields above the line belong to
// the reading goroutine.
type request struct {
	id       uint16
	keepConn bool
	params   []byte
	refused  bool // answered already (bad params); records are ignored
	// unknownLen: no CONTENT_LENGTH; the body is the STDIN stream.
	unknownLen bool
	// ---
	body    *stdin
	cancel  context.CancelFunc
	aborted atomic.Bool
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
			if r.body != nil {
				r.body.fail(io.ErrUnexpectedEOF)
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
					go watchClose(c.nc, r.cancel)
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
			if err == io.EOF || c.isClosed() {
				return nil
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
					r.params = nil
					r.refused = true
					c.log.Warn("bad request", "remote_addr", c.nc.RemoteAddr().String(), "err", "fastcgi: PARAMS over the limit")
					if err := c.refuse(r, http.StatusRequestHeaderFieldsTooLarge); err != nil {
						return err
					}
					continue
				}
				r.params = append(r.params, content...)
				continue
			}
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
			r := c.lookup(h.ID)
			if r == nil || r.body == nil {
				continue // before PARAMS ended, or refused: dropped
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

// watchClose cancels when a read on nc ends other than by a timeout; it
// returns when nc is closed.
func watchClose(nc net.Conn, cancel context.CancelFunc) {
	var b [1]byte
	_, err := nc.Read(b[:])
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		cancel()
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

func (c *conn) setReadDeadline() {
	d := c.s.ReadTimeout
	if c.s.IdleTimeout > 0 && c.activeCount() == 0 {
		d = c.s.IdleTimeout
	}
	if d > 0 {
		c.nc.SetReadDeadline(time.Now().Add(d))
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
		return c.write(AppendEndRequest(nil, id, EndRequest{ProtocolStatus: StatusUnknownRole}))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.reqs[id]; dup {
		return nil // the specification says to ignore it
	}
	c.reqs[id] = &request{id: id, keepConn: b.KeepConn()}
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
	r.params = nil
	if err != nil {
		return err
	}
	r.body = newStdin()
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
		return c.write(AppendUnknownType(nil, t))
	}
	var out []Pair
	err := ParsePairs(content, func(name, _ string) error {
		switch name {
		case MaxConnsVar:
			out = append(out, Pair{name, strconv.Itoa(orDefault(c.s.MaxConns, 1000))})
		case MaxReqsVar:
			out = append(out, Pair{name, strconv.Itoa(orDefault(c.s.MaxReqs, 10000))})
		case MpxsConnsVar:
			out = append(out, Pair{name, "1"})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.write(AppendRecord(nil, TypeGetValuesResult, 0, AppendPairs(nil, out)))
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
	text := strconv.Itoa(code) + " " + http.StatusText(code)
	out := AppendStream(nil, TypeStdout, r.id, []byte("Status: "+text+"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+text+"\n"))
	return c.end(r, out, 0)
}

// end removes r from the connection and writes out (the last of its
// output), an empty STDOUT, and END_REQUEST in one write. When r did not
// ask to keep the connection, or the server is shutting down, the
// connection is closed after.
func (c *conn) end(r *request, out []byte, appStatus uint32) error {
	c.mu.Lock()
	delete(c.reqs, r.id)
	idle := len(c.reqs) == 0
	c.mu.Unlock()
	out = AppendRecord(out, TypeStdout, r.id, nil)
	out = AppendEndRequest(out, r.id, EndRequest{AppStatus: appStatus})
	err := c.write(out)
	if idle && !c.s.track.SetBusy(c.nc, false) || !r.keepConn {
		c.closeConn()
	}
	return err
}

func (c *conn) closeConn() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.nc.Close()
}

func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.s.WriteTimeout > 0 {
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
	w := &response{c: c, r: r, req: req, header: make(http.Header), out: (*bp)[:HeaderSize]}
	defer func() {
		r.cancel()
		r.body.close()
		if cap(w.out) <= 64<<10 {
			*bp = w.out[:0]
			outPool.Put(bp)
		}
	}()
	if err := c.runHandler(w, req); err != nil {
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
	w.finish()
}

func (c *conn) runHandler(w *response, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				err = errHandlerAbort
				return
			}
			c.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "err", fmt.Sprint(p))
			if w.sentHeader {
				err = errHandlerAbort
				return
			}
			w.header = http.Header{}
			w.body = w.body[:0]
			w.wroteHeader = false
			w.WriteHeader(http.StatusInternalServerError)
		}
	}()
	c.s.Handler.ServeHTTP(w, r)
	return nil
}

var errHandlerAbort = errors.New("fastcgi: handler aborted the response")

// stdin is a request body fed by the reading goroutine. Up to maxStdin
// bytes wait in memory; past that the reader waits for the handler.
type stdin struct {
	req    *http.Request
	mu     sync.Mutex
	cond   sync.Cond
	buf    []byte
	off    int
	done   bool  // empty STDIN seen
	closed bool  // handler finished: drop further input
	err    error // abort or connection loss
}

const maxStdin = 1 << 20

func newStdin() *stdin {
	b := &stdin{}
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
	b.buf = nil
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (b *stdin) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.off == len(b.buf) {
		if b.done {
			return 0, io.EOF
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
	if len(b.buf)-b.off <= maxStdin {
		b.cond.Broadcast()
	}
	return n, nil
}

// response is the http.ResponseWriter of one request. out holds one
// STDOUT record being filled (its 8-byte header reserved at the front);
// before the header is sent, body bytes wait in body so that a short
// response gets Content-Length and a sniffed Content-Type.
type response struct {
	c           *conn
	r           *request
	req         *http.Request
	header      http.Header
	status      int
	wroteHeader bool
	sentHeader  bool
	noBody      bool
	body        []byte
	out         []byte
	err         error
}

const (
	sniffLen   = 4096
	recordFill = 32 << 10 // payload at which a STDOUT record is sent
)

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return // CGI has no informational responses
	}
	w.wroteHeader = true
	w.status = code
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.noBody {
		return len(p), nil
	}
	if !w.sentHeader {
		if len(w.body)+len(p) <= sniffLen {
			w.body = append(w.body, p...)
			return len(p), nil
		}
		w.putHeader(false)
	}
	n := len(p)
	for len(p) > 0 {
		room := recordFill - (len(w.out) - HeaderSize)
		k := min(room, len(p))
		w.out = append(w.out, p[:k]...)
		p = p[k:]
		if len(w.out)-HeaderSize >= recordFill {
			if err := w.sendRecord(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (w *response) WriteString(s string) (int, error) {
	return w.Write([]byte(s))
}

// closeRecord fills in the header of the record in out and pads it.
func (w *response) closeRecord() {
	n := len(w.out) - HeaderSize
	p := pad(n)
	id := w.r.id
	copy(w.out, []byte{Version1, byte(TypeStdout), byte(id >> 8), byte(id), byte(n >> 8), byte(n), byte(p), 0})
	w.out = append(w.out, zeros[:p]...)
}

var zeros [8]byte

// sendRecord writes the record in out and starts a new one.
func (w *response) sendRecord() error {
	if len(w.out) == HeaderSize {
		return nil
	}
	w.closeRecord()
	err := w.c.write(w.out)
	w.out = w.out[:HeaderSize]
	if err != nil {
		w.err = err
		w.r.cancel() // the client is gone: tell the handler
	}
	return err
}

// putHeader puts the CGI header block and the waiting body into out.
func (w *response) putHeader(final bool) {
	w.sentHeader = true
	h := w.header
	if !w.noBody && len(w.body) > 0 {
		if _, set := h["Content-Type"]; !set && h.Get("Content-Encoding") == "" {
			h.Set("Content-Type", http.DetectContentType(w.body))
		}
	}
	if final && !w.noBody && w.status >= 200 && h.Get("Content-Length") == "" && h.Get("Transfer-Encoding") == "" {
		h.Set("Content-Length", strconv.Itoa(len(w.body)))
	}
	w.out = append(w.out, "Status: "...)
	w.out = strconv.AppendInt(w.out, int64(w.status), 10)
	w.out = append(w.out, ' ')
	w.out = append(w.out, http.StatusText(w.status)...)
	w.out = append(w.out, "\r\n"...)
	for k, vs := range h {
		if excluded[k] {
			continue
		}
		for _, v := range vs {
			w.out = append(w.out, k...)
			w.out = append(w.out, ": "...)
			w.out = appendHeaderValue(w.out, v)
			w.out = append(w.out, "\r\n"...)
		}
	}
	w.out = append(w.out, "\r\n"...)
	body := w.body
	w.body = w.body[:0]
	if len(body) > 0 {
		w.Write(body)
	}
}

// appendHeaderValue appends v with CR and LF replaced by spaces, as
// net/http does, so a value cannot start a header of its own.
func appendHeaderValue(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// The reply is framed by STDOUT records, so the hop headers of HTTP framing
// are not sent.
var excluded = map[string]bool{"Transfer-Encoding": true, "Connection": true, "Trailer": true, "Status": true}

// Flush sends what was written so far.
func (w *response) Flush() { w.FlushError() }

// FlushError is Flush returning the write error (http.ResponseController).
func (w *response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if !w.sentHeader {
		w.putHeader(false)
	}
	return w.sendRecord()
}

// finish sends the rest of the output, the empty STDOUT and END_REQUEST in
// one write.
func (w *response) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		w.c.closeConn()
		return
	}
	if !w.sentHeader {
		w.putHeader(true)
	}
	if len(w.out) > HeaderSize {
		w.closeRecord()
	} else {
		w.out = w.out[:0]
	}
	if err := w.c.end(w.r, w.out, 0); err != nil {
		w.c.log.Debug("write response", "remote_addr", w.req.RemoteAddr, "err", err)
	}
	w.out = w.out[:0]
}

var (
	_ http.Flusher    = (*response)(nil)
	_ io.StringWriter = (*response)(nil)
)
