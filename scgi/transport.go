package scgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
)

// Transport sends requests to an SCGI backend: a new connection per
// request (SCGI has no keep-alive), the header netstring and the body
// streamed, the reply read as CGI output ("Status:" and headers, with
// Location alone meaning 302) or as an HTTP status line, its body
// streamed back until the backend closes. It is safe for concurrent use.
type Transport struct {
	// Addr is the backend, "host:port" or "unix:/path"; empty means the
	// request URL's host.
	Addr string
	// Vars tunes the CGI variables sent (SCRIPT_NAME override, extras).
	Vars cgivars.Options
	// DialTimeout bounds connecting; zero means 10 seconds.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the reply's headers once
	// the request is sent; zero means no limit.
	ResponseHeaderTimeout time.Duration
	// MaxResponseHeaderBytes bounds the reply's header block; zero means
	// 1 MiB.
	MaxResponseHeaderBytes int64
	// Dial, when set, opens connections instead of a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var (
	// ErrEmptyReply reports a backend that closed the connection without
	// sending a byte of reply.
	ErrEmptyReply = errors.New("scgi: backend closed the connection without a reply")
	// ErrBadReply reports a reply whose status or headers cannot be read.
	ErrBadReply = errors.New("scgi: malformed reply from backend")
)

// splitAddr turns "unix:/path" or "host:port" into a network and address.
func splitAddr(addr string) (network, address string) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", p
	}
	return "tcp", addr
}

// RoundTrip implements http.RoundTripper. A body of unknown length gives
// an error wrapping cgivars.ErrLengthRequired; a refused connection one
// wrapping a *net.OpError whose Op is "dial".
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.roundTrip(req)
	if err != nil && req.Body != nil {
		req.Body.Close()
	}
	return res, err
}

func (t *Transport) roundTrip(req *http.Request) (*http.Response, error) {
	vars, err := cgivars.FromRequest(req, t.Vars)
	if err != nil {
		return nil, fmt.Errorf("scgi: %w", err)
	}
	sv := make([]Var, 0, len(vars)+1)
	for _, p := range vars {
		sv = append(sv, Var{p.Name, p.Value})
	}
	head, err := AppendHeaders(make([]byte, 0, 1024), sv)
	if err != nil {
		return nil, err
	}
	clen, _ := strconv.ParseInt(vars[0].Value, 10, 64) // FromRequest puts CONTENT_LENGTH first

	addr := t.Addr
	if addr == "" {
		addr = req.URL.Host
	}
	network, address := splitAddr(addr)
	ctx := req.Context()
	dialTimeout := t.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = 10 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	var c net.Conn
	if t.Dial != nil {
		c, err = t.Dial(dctx, network, address)
	} else {
		var d net.Dialer
		c, err = d.DialContext(dctx, network, address)
	}
	cancel()
	if err != nil {
		return nil, fmt.Errorf("scgi: backend %s: %w", addr, err)
	}
	// Closing the connection is how a cancelled request stops.
	stop := context.AfterFunc(ctx, func() { c.Close() })

	pc := &pconn{c: c, stop: stop}
	pc.lr = &limitReader{r: c, n: t.maxHeader(), max: t.maxHeader()}
	br := bufio.NewReaderSize(pc.lr, 4096)

	writeErr := make(chan error, 1)
	if clen == 0 {
		// Nothing to stream: the header netstring is one write, done
		// here rather than in a goroutine.
		pc.writeRequest(head, req.Body, clen, t.ResponseHeaderTimeout, writeErr)
	} else {
		go pc.writeRequest(head, req.Body, clen, t.ResponseHeaderTimeout, writeErr)
	}

	res, err := pc.readResponse(br, req)
	if err != nil {
		pc.close()
		// A failed write says more than the read that followed it.
		select {
		case werr := <-writeErr:
			if werr != nil && !errors.Is(err, ErrBadReply) {
				err = werr
			}
		case <-time.After(100 * time.Millisecond):
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("scgi: backend %s: %w", addr, err)
	}
	return res, nil
}

func (t *Transport) maxHeader() int64 {
	if t.MaxResponseHeaderBytes > 0 {
		return t.MaxResponseHeaderBytes
	}
	return 1 << 20
}

// shortReplyWait is how long a reply without Content-Length is given to
// end within the read buffer before it is passed on as a stream.
const shortReplyWait = 2 * time.Millisecond

// pconn is one request's connection.
type pconn struct {
	c    net.Conn
	lr   *limitReader
	stop func() bool

	mu          sync.Mutex
	headersRead bool
	once        sync.Once
}

func (pc *pconn) close() {
	pc.once.Do(func() {
		pc.stop()
		pc.c.Close()
	})
}

// writeRequest sends the header netstring and exactly clen bytes of body,
// then arms the response header timeout.
func (pc *pconn) writeRequest(head []byte, body io.ReadCloser, clen int64, rht time.Duration, done chan<- error) {
	err := pc.write(head, body, clen)
	if body != nil {
		body.Close()
	}
	if err == nil && rht > 0 {
		pc.mu.Lock()
		if !pc.headersRead {
			pc.c.SetReadDeadline(time.Now().Add(rht))
		}
		pc.mu.Unlock()
	}
	done <- err
}

func (pc *pconn) write(head []byte, body io.Reader, clen int64) error {
	if clen == 0 || body == nil {
		_, err := pc.c.Write(head)
		return err
	}
	bw := bufio.NewWriterSize(pc.c, 32<<10)
	bw.Write(head)
	n, err := io.Copy(bw, io.LimitReader(body, clen))
	if err != nil {
		return fmt.Errorf("send body: %w", err)
	}
	if n < clen {
		return fmt.Errorf("send body: %w after %d of %d bytes", io.ErrUnexpectedEOF, n, clen)
	}
	return bw.Flush()
}

// readResponse reads the reply's status and headers.
func (pc *pconn) readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	if _, err := br.Peek(1); err != nil {
		if err == io.EOF {
			return nil, ErrEmptyReply
		}
		return nil, err
	}
	tp := textproto.NewReader(br)
	res := &http.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: req, StatusCode: -1}
	if b, _ := br.Peek(5); string(b) == "HTTP/" {
		line, err := tp.ReadLine()
		if err != nil {
			return nil, pc.headerErr(err)
		}
		proto, status, ok := strings.Cut(line, " ")
		major, minor, vok := http.ParseHTTPVersion(proto)
		if !ok || !vok {
			return nil, fmt.Errorf("%w: status line %q", ErrBadReply, line)
		}
		code, err := parseStatus(status)
		if err != nil {
			return nil, err
		}
		res.StatusCode, res.ProtoMajor, res.ProtoMinor = code, major, minor
	}
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, pc.headerErr(err)
	}
	pc.mu.Lock()
	pc.headersRead = true
	pc.c.SetReadDeadline(time.Time{})
	pc.mu.Unlock()
	pc.lr.n = 1<<63 - 1 // the body is not limited
	h := http.Header(mh)
	if res.StatusCode < 0 {
		res.StatusCode = http.StatusOK
		if s := h.Get("Status"); s != "" {
			if res.StatusCode, err = parseStatus(s); err != nil {
				return nil, err
			}
		} else if h.Get("Location") != "" {
			res.StatusCode = http.StatusFound
		}
	}
	h.Del("Status")
	res.Status = strconv.Itoa(res.StatusCode) + " " + http.StatusText(res.StatusCode)
	res.Header = h
	res.ContentLength = -1
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
		if err != nil || n < 0 || len(h["Content-Length"]) > 1 {
			return nil, fmt.Errorf("%w: Content-Length %q", ErrBadReply, cl)
		}
		res.ContentLength = n
	}
	h.Del("Transfer-Encoding") // the connection's end frames the body
	if res.ContentLength < 0 && req.Method != http.MethodHead && bodyAllowed(res.StatusCode) {
		if n, ok := cgivars.ShortReply(pc.c, br, shortReplyWait); ok {
			// The whole reply is buffered: give it a length, so the
			// proxy sends it in one write instead of flushing as for a
			// stream.
			res.ContentLength = int64(n)
		}
	}
	body := &responseBody{br: br, pc: pc, remaining: res.ContentLength}
	if req.Method == http.MethodHead || !bodyAllowed(res.StatusCode) {
		pc.close()
		res.Body = http.NoBody
		if req.Method != http.MethodHead {
			res.ContentLength = 0
		}
	} else {
		res.Body = body
	}
	return res, nil
}

func (pc *pconn) headerErr(err error) error {
	if errors.Is(err, errHeaderLimit) {
		return fmt.Errorf("%w: headers over %d bytes", ErrBadReply, pc.lr.max)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: reply ended inside its headers", ErrBadReply)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, net.ErrClosed) {
		return err // the connection failed or timed out, not the reply
	}
	return fmt.Errorf("%w: %v", ErrBadReply, err)
}

// parseStatus reads "200 OK" or "200".
func parseStatus(s string) (int, error) {
	s = strings.TrimSpace(s)
	code := s
	if i := strings.IndexByte(s, ' '); i >= 0 {
		code = s[:i]
	}
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 200 || n > 999 {
		return 0, fmt.Errorf("%w: status %q", ErrBadReply, s)
	}
	return n, nil
}

// responseBody reads the reply body to the connection's end, or to
// Content-Length when the backend gave one.
type responseBody struct {
	br        *bufio.Reader
	pc        *pconn
	remaining int64 // -1: until EOF
}

func (b *responseBody) Read(p []byte) (int, error) {
	if b.remaining == 0 {
		return 0, io.EOF
	}
	if b.remaining > 0 && int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.br.Read(p)
	if b.remaining > 0 {
		b.remaining -= int64(n)
		if err == io.EOF && b.remaining > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	return n, err
}

func (b *responseBody) Close() error {
	b.pc.close()
	return nil
}

var errHeaderLimit = errors.New("scgi: header limit reached")

// limitReader fails reads past n bytes; the response header limit.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderLimit
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

var _ http.RoundTripper = (*Transport)(nil)
