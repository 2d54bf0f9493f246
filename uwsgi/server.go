package uwsgi

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
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/conntrack"
	"github.com/gopaste/gopaste/registry"
)

// Server serves an http.Handler over uwsgi: one request per connection,
// answered with an HTTP status line, headers and the body, then a close.
// Set Handler before calling Serve; a Server is safe for concurrent use.
type Server struct {
	Handler      http.Handler
	Logger       *slog.Logger  // nil means slog.Default()
	ReadTimeout  time.Duration // whole request, vars and body; zero means none
	WriteTimeout time.Duration // whole response; zero means none
	// MaxVarsBytes limits the vars block; zero means MaxVarsSize (the
	// protocol's own limit). A larger block is answered 431.
	MaxVarsBytes int

	track conntrack.Tracker
}

// Serve accepts connections on l until Shutdown or Close; it then returns
// http.ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	return s.track.Serve(l, s.serveConn)
}

// Shutdown stops accepting and waits for the requests being served until
// ctx is done; then it closes their connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.track.Shutdown(ctx) }

// Close closes the listeners and every connection now.
func (s *Server) Close() error { return s.track.Close() }

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8192) }}

func (s *Server) serveConn(c net.Conn) {
	if s.ReadTimeout > 0 {
		c.SetReadDeadline(time.Now().Add(s.ReadTimeout))
	}
	if s.WriteTimeout > 0 {
		c.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
	}
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(c)
	defer func() { br.Reset(nil); readerPool.Put(br) }()
	log := s.logger()

	hb, err := br.Peek(HeaderSize)
	if err != nil {
		if len(hb) > 0 {
			log.Warn("bad request", "remote_addr", c.RemoteAddr().String(), "err", fmt.Errorf("uwsgi: truncated header: %w", err))
		}
		return
	}
	if m := registry.Mismatch("uwsgi", hb); m != "" {
		log.Warn(m, "remote_addr", c.RemoteAddr().String())
		return
	}
	s.track.SetBusy(c, true)
	h := ParseHeader([HeaderSize]byte(hb))
	if h.Modifier1 != ModifierWSGI && h.Modifier1 != ModifierFixPath {
		log.Warn("unsupported modifier1", "remote_addr", c.RemoteAddr().String(), "modifier1", h.Modifier1)
		return
	}
	limit := s.MaxVarsBytes
	if limit <= 0 || limit > MaxVarsSize {
		limit = MaxVarsSize
	}
	if int(h.Size) > limit {
		log.Warn("bad request", "remote_addr", c.RemoteAddr().String(),
			"err", fmt.Errorf("%w: %d bytes, limit %d", ErrVarsTooLarge, h.Size, limit))
		writeError(c, http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	br.Discard(HeaderSize)
	block := make([]byte, h.Size)
	if _, err := io.ReadFull(br, block); err != nil {
		log.Warn("bad request", "remote_addr", c.RemoteAddr().String(), "err", fmt.Errorf("uwsgi: truncated vars block: %w", err))
		return
	}
	vars := make([]cgivars.Pair, 0, 32)
	err = ParseVars(block, func(name, value string) error {
		vars = append(vars, cgivars.Pair{Name: name, Value: value})
		return nil
	})
	if err == nil && h.Modifier1 == ModifierFixPath {
		fixPath(vars)
	}
	var req *http.Request
	if err == nil {
		req, err = cgivars.ToRequest(vars, br)
	}
	if err != nil {
		log.Warn("bad request", "remote_addr", c.RemoteAddr().String(), "err", err)
		writeError(c, http.StatusBadRequest)
		return
	}
	if req.RemoteAddr == "" {
		req.RemoteAddr = c.RemoteAddr().String()
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	req = req.WithContext(ctx)
	if req.ContentLength == 0 {
		// Nothing more should come from the client: a read that ends
		// means it went away (nginx closes when its client does), so the
		// handler's context is cancelled, as net/http's is. The read ends
		// when the connection is closed after the request.
		go watchClose(c, cancel)
	}

	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(c)
	defer func() { bw.Reset(nil); writerPool.Put(bw) }()
	w := &response{req: req, bw: bw, header: make(http.Header), cancel: cancel}
	if err := s.serve(w, req); err != nil {
		log.Warn("request ended early", "remote_addr", req.RemoteAddr, "method", req.Method, "path", req.URL.Path, "err", err)
		return
	}
	if err := w.finish(); err != nil {
		log.Debug("write response", "remote_addr", req.RemoteAddr, "err", err)
		return
	}
	drain(c, req.Body)
}

// drain reads what is left of a request body the handler did not read, so
// that closing the connection does not reset it under the response (the
// client would lose the response). Past 256 KiB it stops sending and
// gives the client a moment to stop too.
func drain(c net.Conn, body io.Reader) {
	n, err := io.CopyN(io.Discard, body, 256<<10)
	if err != nil || n < 256<<10 {
		return // all read (or the client is gone)
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.CopyN(io.Discard, c, 64<<20)
}

// serve runs the handler, turning a panic into an error (and a 500 when
// nothing was sent yet); http.ErrAbortHandler ends quietly.
func (s *Server) serve(w *response, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				err = errAborted
				return
			}
			s.logger().Error("handler panic", "method", r.Method, "path", r.URL.Path, "err", fmt.Sprint(p))
			if !w.sentHeader {
				w.header = http.Header{}
				w.buf = w.buf[:0]
				w.wroteHeader = false
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			err = errAborted
		}
	}()
	s.Handler.ServeHTTP(w, r)
	return nil
}

var errAborted = errors.New("uwsgi: handler aborted the response")

func watchClose(c net.Conn, cancel context.CancelFunc) {
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		cancel()
	}
}

// fixPath implements modifier1 30: SCRIPT_NAME is removed from the front of
// PATH_INFO (nginx sends PATH_INFO=$document_uri, the whole path).
func fixPath(vars []cgivars.Pair) {
	script, _ := cgivars.Get(vars, "SCRIPT_NAME")
	script = strings.TrimSuffix(script, "/")
	if script == "" {
		return
	}
	for i := len(vars) - 1; i >= 0; i-- {
		if vars[i].Name != "PATH_INFO" {
			continue
		}
		p := vars[i].Value
		if p == script {
			vars[i].Value = ""
		} else if rest, ok := strings.CutPrefix(p, script); ok && rest[0] == '/' {
			vars[i].Value = rest
		}
		return
	}
}

func writeError(c net.Conn, code int) {
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%d %s\n",
		code, http.StatusText(code), len(strconv.Itoa(code))+len(http.StatusText(code))+2, code, http.StatusText(code))
}

// response is the http.ResponseWriter of one uwsgi request. The body is
// buffered until the first Flush or until more than sniffLen bytes arrive,
// so that a short response gets Content-Length and a sniffed Content-Type.
type response struct {
	req         *http.Request
	bw          *bufio.Writer
	header      http.Header
	cancel      context.CancelFunc
	status      int
	wroteHeader bool // WriteHeader called
	sentHeader  bool // header on the wire (in bw)
	buf         []byte
	noBody      bool
	err         error
}

const sniffLen = 4096

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational responses (103 Early Hints) go out at once.
		fmt.Fprintf(w.bw, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
		w.header.Write(w.bw)
		w.bw.WriteString("\r\n")
		return
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
		if len(w.buf)+len(p) <= sniffLen {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.sendHeader(false)
	}
	n, err := w.bw.Write(p)
	if err != nil {
		w.fail(err)
	}
	return n, err
}

func (w *response) WriteString(s string) (int, error) {
	return w.Write([]byte(s))
}

func (w *response) fail(err error) {
	w.err = err
	w.cancel() // the client is gone: tell the handler
}

// sendHeader writes the status line and headers to bw, then the buffered
// body. final means the handler is done and buf is the whole body.
func (w *response) sendHeader(final bool) {
	w.sentHeader = true
	h := w.header
	if !w.noBody && h.Get("Content-Type") == "" && len(w.buf) > 0 && h.Get("Content-Encoding") == "" {
		if _, set := h["Content-Type"]; !set {
			h.Set("Content-Type", http.DetectContentType(w.buf))
		}
	}
	if final && !w.noBody && h.Get("Content-Length") == "" && h.Get("Transfer-Encoding") == "" && w.status >= 200 {
		h.Set("Content-Length", strconv.Itoa(len(w.buf)))
	}
	if _, ok := h["Date"]; !ok {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	bw := w.bw
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(w.status))
	bw.WriteByte(' ')
	bw.WriteString(http.StatusText(w.status))
	bw.WriteString("\r\n")
	h.WriteSubset(bw, excludedHeaders)
	bw.WriteString("\r\n")
	if len(w.buf) > 0 {
		bw.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

// The connection carries one response; HTTP/1.1 framing of the body is the
// close of the connection, so Transfer-Encoding is not forwarded.
var excludedHeaders = map[string]bool{"Transfer-Encoding": true, "Connection": true, "Trailer": true}

// Flush sends what was written so far to the client.
func (w *response) Flush() {
	w.FlushError()
}

// FlushError is Flush returning the write error (http.ResponseController).
func (w *response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if !w.sentHeader {
		w.sendHeader(false)
	}
	if err := w.bw.Flush(); err != nil {
		w.fail(err)
		return err
	}
	return nil
}

func (w *response) finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if !w.sentHeader {
		w.sendHeader(true)
	}
	return w.bw.Flush()
}

var (
	_ http.Flusher    = (*response)(nil)
	_ io.StringWriter = (*response)(nil)
)
