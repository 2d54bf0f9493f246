package gateway

// This file is what the client side reads differently from an HTTP/1.x
// server (the http_proxy client, Exchange.HTTP) than from a gateway
// backend: the status line is required, 1xx heads reach the request's
// httptrace, the connection is kept by HTTP/1.1's default, Transfer-Encoding
// is chunked alone or nothing, and a chunked body's trailers are read.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"strings"
	"syscall"
	"time"
)

// IsToken reports whether s is an RFC 9110 token: a header name, a
// method.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

// HasToken reports whether the comma-separated lists of vs (a header's
// values) hold token, in any case.
func HasToken(vs []string, token string) bool { return hasToken(vs, token) }

// keepHTTP reports whether an HTTP/1.x server leaves the connection open
// after a reply with header h (RFC 9112 §9.3): HTTP/1.1 unless it says
// Connection: close, HTTP/1.0 only when it says Connection: keep-alive.
func keepHTTP(res *http.Response, h http.Header) bool {
	if res.ProtoMajor != 1 || hasToken(h["Connection"], "close") {
		return false
	}
	return res.ProtoMinor >= 1 || hasToken(h["Connection"], "keep-alive")
}

// got1xx passes an interim head to the request's httptrace
// Got1xxResponse, as net/http's Transport does (ReverseProxy forwards
// them to its client through it).
func got1xx(req *http.Request, code int, h http.Header) error {
	if req == nil {
		return nil
	}
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.Got1xxResponse != nil {
		return tr.Got1xxResponse(code, textproto.MIMEHeader(h))
	}
	return nil
}

// transferHTTP checks the Transfer-Encoding of an HTTP/1.1 reply as
// net/http does (and nginx): absent, or one field that is "chunked". It
// reports whether the body is chunked.
func transferHTTP(res *http.Response, h http.Header) (bool, error) {
	te, ok := h["Transfer-Encoding"]
	if !ok || res.ProtoMajor != 1 || res.ProtoMinor < 1 {
		return false, nil // HTTP/1.0 ignores it (Go issue 12785)
	}
	if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
		return false, fmt.Errorf("%w: Transfer-Encoding %q", ErrBadReply, te)
	}
	return true, nil
}

// announcedTrailer returns the trailer names a chunked reply's Trailer
// header announces, with nil values, as net/http's Response.Trailer has
// them before the body is read; nil when there are none. Framing fields
// may not be trailers.
func announcedTrailer(h http.Header) (http.Header, error) {
	var t http.Header
	for _, v := range h["Trailer"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name == "" {
				continue
			}
			name = textproto.CanonicalMIMEHeaderKey(name)
			switch name {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				return nil, fmt.Errorf("%w: trailer %s", ErrBadReply, name)
			}
			if t == nil {
				t = make(http.Header)
			}
			t[name] = nil
		}
	}
	return t, nil
}

// strictStatus reports whether status, what follows the version and a
// space in an HTTP server's status line, is three digits alone or
// followed by a space, with no control byte after, as net/http reads it
// (without trimming).
func strictStatus(status string) bool {
	if len(status) < 3 || !isDigits(status[:3]) || len(status) > 3 && status[3] != ' ' {
		return false
	}
	return !hasCTL(status)
}

// hasCTL reports whether s holds a control byte other than HTAB, which
// net/http refuses in a status line or a header value.
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// validLength reports whether the Content-Length values cls are one
// length, repeated or not: digits, no sign.
func validLength(cls []string) bool {
	first := textproto.TrimString(cls[0])
	for _, v := range cls[1:] {
		if textproto.TrimString(v) != first {
			return false
		}
	}
	return isDigits(first)
}

// isDigits reports whether s is one or more ASCII digits (a
// Content-Length, without the sign strconv.ParseInt would take).
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// trailerReader reads a chunked body and then its trailer section,
// within what is left of the head's budget, into res.Trailer; ended
// says the body was read exactly to the end of its trailer section.
type trailerReader struct {
	cr    io.Reader // the chunk decoder
	hr    headReader
	res   *http.Response
	ended bool
	err   error
}

func newTrailerReader(br *bufio.Reader, hr headReader, res *http.Response) *trailerReader {
	return &trailerReader{cr: httputil.NewChunkedReader(br), hr: hr, res: res}
}

func (t *trailerReader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.cr.Read(p)
	if err == io.EOF {
		err = t.readTrailer()
		if err == nil {
			t.ended = true
			err = io.EOF
		}
	}
	if err != nil {
		t.err = err
	}
	return n, err
}

// readTrailer reads the trailer section after the last chunk: an empty
// line, or header lines then one.
func (t *trailerReader) readTrailer() error {
	b, _ := t.hr.br.Peek(2)
	if string(b) == "\r\n" {
		t.hr.br.Discard(2)
		return nil
	}
	if len(b) < 2 {
		// Even a bare LF needs a byte after it, as net/http reads it.
		return fmt.Errorf("trailer: %w", io.ErrUnexpectedEOF)
	}
	// As net/http: trailers end in CRLF CRLF within the read buffer.
	for n := 4; ; n++ {
		b, err := t.hr.br.Peek(n)
		if bytes.HasSuffix(b, []byte("\r\n\r\n")) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: trailer section not ended within %d bytes", ErrBadReply, t.hr.br.Size())
		}
	}
	h, err := t.hr.header()
	if err != nil {
		return fmt.Errorf("trailer: %w", err)
	}
	if len(h) == 0 {
		return nil
	}
	if t.res.Trailer == nil {
		t.res.Trailer = h
		return nil
	}
	for k, vs := range h {
		t.res.Trailer[k] = vs
	}
	return nil
}

// chunkedEnd reports whether body, the body of a chunked reply that just
// returned io.EOF, read its trailer section to the end; handled is false
// for a gateway reply, whose end the caller reads itself.
func chunkedEnd(body io.Reader) (ended, handled bool) {
	if rb, ok := body.(*replyBody); ok {
		if t, ok := rb.r.(*trailerReader); ok {
			return t.ended, true
		}
	}
	return false, false
}

// peekAfter is how long a connection may have been idle and still be
// reused without PeekAlive asking its socket: one back in the pool this
// recently was just in use, and at a rate where the system call would
// show (over 100 requests a second per connection).
const peekAfter = 10 * time.Millisecond

// PeekAlive reports whether the idle connection pc can carry a request:
// nothing unasked-for is buffered or waiting on it, and the backend has
// not closed it. It asks the socket without waiting (a MSG_PEEK of one
// byte), which a read deadline cannot do: Go fails a read whose deadline
// has passed without trying the socket. A connection idle for less than
// 10ms is not asked: a backend closing it in that moment is the race
// every HTTP client has (net/http's Transport, whose reading goroutine
// sees the close, has it for less long), covered by sending a
// replayable request again. After a reply without a body (HEAD, 204,
// 304) it is always asked: a faulty backend that sends a body anyway
// sends it right after the head. A connection that is not a socket is
// taken as alive.
func PeekAlive(pc *PoolConn) bool {
	if pc.Reader.Buffered() > 0 {
		return false
	}
	if time.Since(pc.used) < peekAfter && !pc.bodiless {
		return true
	}
	sc, ok := pc.Conn.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, errno := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = n < 0 && (errno == syscall.EAGAIN || errno == syscall.EWOULDBLOCK)
		return true // never wait for the poller
	})
	return err == nil && alive
}

// replayable reports whether net/http's Transport would send req again
// after a kept connection failed under it: no body, and a method that
// is safe to repeat or an Idempotency-Key.
func replayable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, ok := req.Header["Idempotency-Key"]
	_, xok := req.Header["X-Idempotency-Key"]
	return ok || xok
}
