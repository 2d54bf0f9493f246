package server

// This file holds what the http server checks of HTTP/1 framing beyond
// net/http (issue 12; docs/security.md "Invalid HTTP/1.x and
// smuggling"):
//
//   - a request that had both Content-Length and Transfer-Encoding is
//     served (Transfer-Encoding wins) with Connection: close on its
//     response (RFC 9112 §6.1), so that what follows its body is never
//     read as a request. net/http removes the Content-Length of a chunked
//     request before the handler runs; headConn counts the
//     "Content-Length:" lines that start a line in what the connection
//     read, and a chunked request closes its connection when such a line
//     is not accounted for by an earlier request. A body holding such a
//     line can only close a connection that could have stayed open.
//   - HTTP/1.0 requests are answered with Connection: close, and one
//     holding Transfer-Encoding is refused (400). net/http ignores and
//     deletes Transfer-Encoding in HTTP/1.0 (Go issue 12785), reading a
//     chunked body as the next request; the head is read again from the
//     bytes headConn kept of the connection's first request, which, with
//     no keep-alive for HTTP/1.0, is the only one.
//   - asterisk-form ("GET *") is refused unless the method is OPTIONS, and
//     authority-form ("GET host:port") unless it is CONNECT (RFC 9112
//     §3.2.3, §3.2.4).
//   - a chunked body whose trailer has a field name that is not a token
//     ("X : y") ends in an error instead of io.EOF: net/http checks the
//     names of the header, not those of the trailer (RFC 9112 §5.1).
//
// Over TLS net/http needs the *tls.Conn itself, so there is no headConn:
// every chunked request closes its connection, and HTTP/1.0 requests are
// closed after but not checked for Transfer-Encoding.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/tcpcork"
)

// maxHead10 is how much of an HTTP/1.0 request head headConn keeps; a
// longer head is refused (431).
const maxHead10 = 64 << 10

// headListener wraps accepted connections in headConn.
type headListener struct {
	net.Listener
	// mismatch, when set, logs clients that speak another protocol
	// (logMismatch); nil when the sniffer (protocol = auto) chose HTTP.
	mismatch *slog.Logger
}

func (l headListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &headConn{Conn: c, mismatch: l.mismatch}, nil
}

// headConn keeps the head of the connection's first request when its
// request line says HTTP/1.0, and counts the requests served on it. It
// is the http server's wrapper of each accepted connection: every Read,
// Write and deadline of every request passes through it, so the check
// of the first bytes (logMismatch) is made here rather than in a second
// wrapper.
type headConn struct {
	net.Conn
	mismatch *slog.Logger // until the first read: see headListener
	deadline readDeadline // see deadline.go
	done     atomic.Bool  // nothing more to keep
	requests atomic.Int64 // requests served
	clLines  atomic.Int64 // "Content-Length:" lines read, not yet accounted for
	match    int          // bytes of clPattern matched at the end of the last read
	more     moreState    // a large file's head sent with MSG_MORE (cork.go)

	mu     sync.Mutex
	buf    []byte // what was read of the first request, while needed
	is10   bool   // the first request line says HTTP/1.0
	head   []byte // its head, up to the empty line, once read
	tooBig bool   // its head is longer than maxHead10
}

func (c *headConn) Read(p []byte) (int, error) {
	c.startRead()
	n, err := c.Conn.Read(p)
	c.endRead()
	if n > 0 {
		if c.mismatch != nil {
			// Only the reading goroutine uses mismatch, as scan's match.
			logMismatch(c.mismatch, c.Conn, p[:n])
			c.mismatch = nil
		}
		if !c.done.Load() {
			c.keep(p[:n])
		}
		c.scan(p[:n])
	}
	return n, err
}

// clPattern is what starts a Content-Length line; net/http takes no other
// spelling (no space before the colon).
var clPattern = []byte("\ncontent-length:")

// scan counts the lines of b starting with clPattern, case-insensitively,
// across reads. net/http reads one connection from one goroutine at a
// time.
func (c *headConn) scan(b []byte) {
	m := c.match
	for len(b) > 0 {
		if m == 0 {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				break
			}
			b, m = b[i+1:], 1
			if len(b) > 0 && b[0]|0x20 != 'c' {
				m = 0 // the common case, decided here
			}
			continue
		}
		k := min(len(clPattern)-m, len(b))
		if !lowerEqual(b[:k], clPattern[m:m+k]) {
			m = 0 // a '\n' in b[:k] is found again above
			continue
		}
		b, m = b[k:], m+k
		if m == len(clPattern) {
			c.clLines.Add(1)
			m = 0
		}
	}
	c.match = m
}

// lowerEqual reports whether b, ASCII letters lowered, equals lower.
func lowerEqual(b, lower []byte) bool {
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

// closeAfter reports whether r, a request served on c, must close the
// connection: it is chunked and a Content-Length line read on c is not
// accounted for by an earlier request (so it may be r's own). A request
// with Content-Length accounts for one such line: its head, read whole
// before it is served, had at least one. Lines of requests read ahead
// count against the chunked one, which may only close a connection
// that could have stayed open.
func (c *headConn) closeAfter(r *http.Request) bool {
	if len(r.TransferEncoding) > 0 {
		return c.clLines.Swap(0) > 0
	}
	if _, ok := r.Header["Content-Length"]; ok {
		for {
			n := c.clLines.Load()
			if n == 0 || c.clLines.CompareAndSwap(n, n-1) {
				break
			}
		}
	}
	return false
}

func (c *headConn) keep(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.is10 {
		// The request line: most often whole in the first read, which is
		// then looked at in place.
		line := b
		if len(c.buf) > 0 {
			c.buf = append(c.buf, b...)
			line = c.buf
		}
		i := bytes.IndexByte(line, '\n')
		if i < 0 {
			if len(c.buf) == 0 {
				c.buf = append(c.buf, b...)
			}
			if len(c.buf) > maxHead10 {
				c.stop() // net/http refuses it
			}
			return
		}
		if !bytes.HasSuffix(bytes.TrimSuffix(line[:i], []byte("\r")), []byte(" HTTP/1.0")) {
			c.stop()
			return
		}
		c.is10 = true
		if len(c.buf) == 0 {
			c.buf = append(c.buf, b...)
		}
	} else {
		c.buf = append(c.buf, b...)
	}
	if i := headEnd(c.buf); i >= 0 {
		c.head = c.buf[:i]
		c.stop()
	} else if len(c.buf) > maxHead10 {
		c.tooBig = true
		c.stop()
	}
}

func (c *headConn) stop() {
	if c.head == nil {
		c.buf = nil
	}
	c.done.Store(true)
}

// headEnd returns the length of the head in b, through the empty line
// after the request line (LF or CRLF line ends), or -1.
func headEnd(b []byte) int {
	for i, first := 0, true; ; first = false {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		line := bytes.TrimSuffix(b[i:i+j], []byte("\r"))
		i += j + 1
		if len(line) == 0 && !first {
			return i
		}
	}
}

// firstHead10 returns the head of the connection's first request, read
// when its request line said HTTP/1.0.
func (c *headConn) firstHead10() (head []byte, is10, tooBig bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.head, c.is10, c.tooBig
}

func (c *headConn) CloseWrite() error { return closeWrite(c.Conn) }

type headConnKey struct{}

// headContext makes the connection's headConn (if it is one) known to
// guardHTTP1, and to handlers as their tcpcork.Corker; it is
// http.Server's ConnContext, after next's.
func headContext(next func(context.Context, net.Conn) context.Context) func(context.Context, net.Conn) context.Context {
	return func(ctx context.Context, c net.Conn) context.Context {
		if next != nil {
			ctx = next(ctx, c)
		}
		if hc, ok := c.(*headConn); ok {
			ctx = tcpcork.With(context.WithValue(ctx, headConnKey{}, hc), hc)
		}
		return ctx
	}
}

// guardHTTP1 refuses or closes after the HTTP/1 requests this file's
// comment lists, and passes the rest to h. HTTP/2 requests pass.
func guardHTTP1(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 {
			h.ServeHTTP(w, r)
			return
		}
		hc, _ := r.Context().Value(headConnKey{}).(*headConn)
		n := int64(0)
		if hc != nil {
			n = hc.requests.Add(1)
		}
		if status, msg := refuseHTTP1(r, hc, n); status != 0 {
			w.Header().Set("Connection", "close")
			http.Error(w, msg, status)
			return
		}
		if r.ProtoMinor == 0 || hc == nil && len(r.TransferEncoding) > 0 || hc != nil && hc.closeAfter(r) {
			w.Header().Set("Connection", "close")
		}
		if len(r.TransferEncoding) > 0 {
			// net/http looks at r.Body after the handler (a body closed
			// early closes the connection): give it back its own.
			body := r.Body
			r.Body = &trailerBody{ReadCloser: body, r: r}
			defer func() { r.Body = body }()
		}
		h.ServeHTTP(w, r)
	})
}

// errTrailerName ends a chunked body whose trailer has a field name that
// is not a token.
var errTrailerName = errors.New("server: malformed trailer field name")

// trailerBody checks the trailer's field names when r's body ends.
type trailerBody struct {
	io.ReadCloser
	r *http.Request
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		for k := range b.r.Trailer {
			if !cgivars.ValidToken(k) {
				return n, fmt.Errorf("%w: %q", errTrailerName, k)
			}
		}
	}
	return n, err
}

// refuseHTTP1 returns the status and message refusing r, the nth request
// on hc (nil when the connection is not known: TLS), or 0.
func refuseHTTP1(r *http.Request, hc *headConn, n int64) (int, string) {
	const bad = http.StatusBadRequest
	switch uri := r.RequestURI; {
	case uri == "*":
		if r.Method != http.MethodOptions {
			return bad, "400 Bad Request: asterisk-form is for OPTIONS only"
		}
	case r.Method == http.MethodConnect:
	case strings.HasPrefix(uri, "/"):
	case !strings.Contains(uri, "://"):
		return bad, "400 Bad Request: authority-form is for CONNECT only"
	}
	if r.ProtoMinor != 0 || hc == nil {
		return 0, ""
	}
	head, is10, tooBig := hc.firstHead10()
	switch {
	case n != 1 || !is10:
		// Only the first request's head was kept.
		return bad, "400 Bad Request: HTTP/1.0 request after an HTTP/1.1 one on a connection"
	case tooBig:
		return http.StatusRequestHeaderFieldsTooLarge, "431 Request Header Fields Too Large"
	case head == nil:
		return bad, "400 Bad Request"
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(head)))
	if _, err := tp.ReadLine(); err != nil {
		return bad, "400 Bad Request"
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return bad, "400 Bad Request"
	}
	if _, ok := hdr["Transfer-Encoding"]; ok {
		return bad, "400 Bad Request: Transfer-Encoding in HTTP/1.0"
	}
	return 0, ""
}
