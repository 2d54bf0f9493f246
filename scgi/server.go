package scgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

// Server serves an http.Handler over SCGI: one request per connection,
// the header netstring then exactly CONTENT_LENGTH bytes of body (it never
// waits for EOF: web servers do not half-close), a CGI-style reply
// ("Status: 200 OK" and headers, which nginx, Apache and lighttpd all
// take), and the connection closed to end it.
//
// Set the fields before calling Serve; a Server is then safe for
// concurrent use.
type Server struct {
	Handler http.Handler
	Logger  *slog.Logger // nil means slog.Default()
	// ReadTimeout bounds reading the headers and body; zero means none.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing the reply, from the end of the headers;
	// zero means none.
	WriteTimeout time.Duration
	// MaxHeaderBytes bounds the header netstring; zero means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	shutdown  atomic.Bool
}

// errTooManyFiles makes Accept back off instead of failing.
var errTooManyFiles = syscall.EMFILE

// ErrServerClosed is what Serve returns after Shutdown; it is
// http.ErrServerClosed so the server package treats both alike.
var ErrServerClosed = http.ErrServerClosed

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// Serve accepts connections on l and serves each in its own goroutine
// until Shutdown, then returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	if s.shutdown.Load() {
		return ErrServerClosed
	}
	s.mu.Lock()
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.shutdown.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger().Warn("accept", "err", err, "retry_in", delay.String())
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		cn := &conn{srv: s, c: c}
		if !s.track(cn, true) {
			c.Close()
			return ErrServerClosed
		}
		go cn.serve()
	}
}

// Shutdown stops accepting, closes connections that have not started a
// request, waits for the others to finish until ctx is done, and then
// closes what is left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true)
	s.mu.Lock()
	for l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if s.closeIdle() {
			return nil
		}
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for c := range s.conns {
				c.c.Close()
			}
			s.mu.Unlock()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// closeIdle closes connections that have not sent a byte yet and reports
// whether none are left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if !c.active.Load() {
			c.c.Close()
		}
	}
	return len(s.conns) == 0
}

func (s *Server) track(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	if add {
		if s.shutdown.Load() {
			return false
		}
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	return true
}

// conn is one SCGI connection: one request.
type conn struct {
	srv    *Server
	c      net.Conn
	active atomic.Bool // a byte of the request has arrived
}

func (cn *conn) serve() {
	s := cn.srv
	defer s.track(cn, false)
	defer cn.c.Close()
	remote := cn.c.RemoteAddr().String()

	if s.ReadTimeout > 0 {
		cn.c.SetReadDeadline(time.Now().Add(s.ReadTimeout))
	}
	br := bufio.NewReaderSize(cn.c, 4096)
	first, err := br.Peek(1)
	if err != nil {
		return // closed before sending anything: a port probe, or Shutdown
	}
	cn.active.Store(true)
	if first[0] < '1' || first[0] > '9' {
		cn.wrongProtocol(br, remote)
		return
	}
	vars, err := ReadHeaders(br, s.MaxHeaderBytes)
	if err != nil {
		s.logger().Warn("bad scgi request", "remote_addr", remote, "err", err)
		return
	}
	pairs := make([]cgivars.Pair, len(vars))
	for i, v := range vars {
		pairs[i] = cgivars.Pair{Name: v.Name, Value: v.Value}
	}
	req, err := cgivars.ToRequest(pairs, br)
	w := newResponse(cn.c, s.WriteTimeout)
	if err != nil {
		s.logger().Warn("bad scgi request", "remote_addr", remote, "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "400 Bad Request\n")
		w.finish(nil)
		return
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, cn.c.LocalAddr())
	if req.RemoteAddr == "" {
		req.RemoteAddr = remote
	}
	body := &watchedBody{ReadCloser: req.Body}
	if req.ContentLength == 0 {
		cn.watchClose(br, cancel)
	} else {
		body.onEOF = func() { cn.watchClose(br, cancel) }
	}
	req.Body = body
	req = req.WithContext(ctx)
	w.req = req

	if !cn.run(w, req) {
		return // aborted: close without finishing the reply
	}
	w.finish(req)
	cn.lingerClose(body)
}

// run calls the handler and reports whether the reply may be finished.
func (cn *conn) run(w *response, req *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				ok = false
				return
			}
			buf := make([]byte, 16<<10)
			buf = buf[:runtime.Stack(buf, false)]
			cn.srv.logger().Error("handler panic", "method", req.Method, "path", req.URL.Path,
				"err", fmt.Sprint(v), "stack", string(buf))
			if !w.wroteHeader {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, "500 Internal Server Error\n")
				ok = true
				return
			}
			ok = false
		}
	}()
	cn.srv.Handler.ServeHTTP(w, req)
	return true
}

// watchClose starts a read that ends when the web server closes the
// connection (it sends nothing more after the body), cancelling the
// request's context. It ends when serve closes the connection.
func (cn *conn) watchClose(br *bufio.Reader, cancel context.CancelFunc) {
	cn.c.SetReadDeadline(time.Time{})
	go func() {
		br.ReadByte() // any outcome means the request is over or abandoned
		cancel()
	}()
}

// lingerClose ends the connection without a reset: the reply is flushed,
// our side is half-closed, and a body the handler left unread is drained
// briefly so the kernel does not answer it with RST.
func (cn *conn) lingerClose(body *watchedBody) {
	if body.eof.Load() || body.ReadCloser == http.NoBody {
		return
	}
	if cw, ok := cn.c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	linger := 2 * time.Second
	if rt := cn.srv.ReadTimeout; rt > 0 && rt < linger {
		linger = rt
	}
	cn.c.SetReadDeadline(time.Now().Add(linger))
	io.Copy(io.Discard, io.LimitReader(body, 4<<20))
}

// wrongProtocol logs a connection that speaks another protocol, and
// answers an HTTP client in its own language.
func (cn *conn) wrongProtocol(br *bufio.Reader, remote string) {
	b, _ := br.Peek(min(br.Buffered(), 4))
	if len(b) < 2 {
		b, _ = br.Peek(2)
	}
	msg := registry.Mismatch("scgi", b)
	if msg == "" {
		cn.srv.logger().Warn("bad scgi request", "remote_addr", remote, "err", fmt.Errorf("%w: starts with %q", ErrMalformed, b))
		return
	}
	cn.srv.logger().Warn(msg, "remote_addr", remote)
	if registry.Detect(b) == "http" {
		const text = "This port speaks SCGI, not HTTP: point a web server's scgi_pass at it.\n"
		fmt.Fprintf(cn.c, "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(text), text)
	}
}

// watchedBody notes when the body has been read to its end.
type watchedBody struct {
	io.ReadCloser
	eof   atomic.Bool
	onEOF func()
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.eof.Swap(true) && b.onEOF != nil {
		b.onEOF()
	}
	return n, err
}

// response writes a CGI-style reply.
type response struct {
	c            net.Conn
	bw           *bufio.Writer
	req          *http.Request
	header       http.Header
	status       int
	wroteHeader  bool // WriteHeader called
	sentHeader   bool // header bytes written to bw
	buf          []byte
	writeTimeout time.Duration
	err          error
}

// bufferLimit is how much body is held back so that a short reply gets a
// Content-Length and a Content-Type sniffed from it.
const bufferLimit = 4 << 10

func newResponse(c net.Conn, writeTimeout time.Duration) *response {
	if writeTimeout > 0 {
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	return &response{c: c, bw: bufio.NewWriterSize(c, 8<<10), header: http.Header{}, writeTimeout: writeTimeout}
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("scgi: invalid WriteHeader code %v", code))
	}
	if code < 200 {
		return // CGI has no interim replies
	}
	w.wroteHeader, w.status = true, code
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !bodyAllowed(w.status) || (w.req != nil && w.req.Method == http.MethodHead) {
		return len(p), nil
	}
	if !w.sentHeader {
		if len(w.buf)+len(p) <= bufferLimit {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.sendHeader(false)
	}
	n, err := w.bw.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

func (w *response) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// sendHeader writes the status and header lines and any held-back body.
// complete says the body is all in w.buf, so its length is known.
func (w *response) sendHeader(complete bool) {
	if w.sentHeader {
		return
	}
	w.sentHeader = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	h := w.header
	if bodyAllowed(w.status) {
		if _, ok := h["Content-Type"]; !ok && len(w.buf) > 0 && h.Get("Content-Encoding") == "" {
			h.Set("Content-Type", http.DetectContentType(w.buf))
		}
		if complete && h.Get("Content-Length") == "" && h.Get("Transfer-Encoding") == "" &&
			(w.req == nil || w.req.Method != http.MethodHead || len(w.buf) > 0) {
			h.Set("Content-Length", strconv.Itoa(len(w.buf)))
		}
	}
	// Framing of the reply is the web server's job: the connection end
	// delimits it here.
	h.Del("Transfer-Encoding")
	h.Del("Connection")
	fmt.Fprintf(w.bw, "Status: %d %s\r\n", w.status, http.StatusText(w.status))
	h.Write(w.bw) // replaces CR and LF in values with spaces
	w.bw.WriteString("\r\n")
	if len(w.buf) > 0 {
		w.bw.Write(w.buf)
		w.buf = nil
	}
}

// Flush sends what the handler wrote so far.
func (w *response) Flush() {
	w.FlushError()
}

// FlushError is Flush returning the write error.
func (w *response) FlushError() error {
	w.sendHeader(false)
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	return nil
}

// SetWriteDeadline lets http.ResponseController extend the write timeout
// of a long reply.
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.SetWriteDeadline(t) }

// SetReadDeadline lets http.ResponseController bound body reads.
func (w *response) SetReadDeadline(t time.Time) error { return w.c.SetReadDeadline(t) }

// finish sends what is left of the reply.
func (w *response) finish(req *http.Request) {
	w.sendHeader(true)
	w.bw.Flush()
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && (status < 100 || status > 199)
}

var (
	_ http.ResponseWriter = (*response)(nil)
	_ http.Flusher        = (*response)(nil)
	_ server.Serving      = (*Server)(nil)
)
