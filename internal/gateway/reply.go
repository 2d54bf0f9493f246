package gateway

// This file is the client side: reading the reply a backend sends (SCGI,
// uwsgi, FastCGI, a CGI script) into an *http.Response, and the exchange
// of one request over a connection of its own (SCGI, uwsgi).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultMaxHeaderBytes is the size of a reply's header block that
// ReadReply accepts when given no limit.
const DefaultMaxHeaderBytes = 1 << 20

var (
	// ErrNoReply reports a backend that ended its reply (closed the
	// connection, or ended its output) without sending a byte.
	ErrNoReply = errors.New("gateway: backend sent no reply")
	// ErrBadReply reports a reply whose status line or headers cannot be
	// read; errors of ReadReply about the reply itself wrap it.
	ErrBadReply = errors.New("gateway: malformed reply from backend")
	// ErrHeaderTooLarge reports a reply whose header block exceeds the
	// limit given to ReadReply; such errors wrap ErrBadReply too.
	ErrHeaderTooLarge = errors.New("gateway: reply header block too large")
)

// ReadReply reads the head of a backend's reply from br and returns the
// response to req it describes, whose Body reads the rest of br. Two
// forms are read:
//
//   - CGI (RFC 3875 §6): header lines, then an empty line. "Status: 404
//     Not Found" (or "Status: 404") gives the status; without Status, a
//     Location gives 302, anything else 200. A local redirect (§6.2.2: a
//     Location that is a path, with no Status) is not re-run inside the
//     server: it too is a 302, which the client follows to the same
//     host, as nginx does.
//   - An HTTP status line ("HTTP/1.1 200 OK") and headers, as uWSGI
//     applications send. Interim 1xx heads before the final one are
//     skipped; Transfer-Encoding: chunked is decoded.
//
// The status is three digits between 200 and 999: a gateway reply is
// final (no 1xx, no 101 protocol switch). Lines end in LF or CRLF; a
// header name is an RFC 9110 token; a value holding NUL or CR, a folded
// line, a second Status or conflicting Content-Lengths make the reply
// malformed. The head may be at most max bytes (zero means
// DefaultMaxHeaderBytes); a longer one gives an error wrapping
// ErrHeaderTooLarge and ErrBadReply. Hop-by-hop headers (IsHopByHop, and
// those Connection names) and Status are removed from the result.
//
// The body reads to Content-Length when the reply gives one (ContentLength
// is then set; a shorter body ends in io.ErrUnexpectedEOF), else to the
// end of br (ContentLength -1; TransferEncoding is ["chunked"] when it is
// decoded). It is empty for HEAD and for 204 and 304. Its Close does
// nothing: the caller, who owns what br reads from, replaces it with one
// that releases the connection.
//
// An end of input or a connection reset before any byte gives an error
// wrapping ErrNoReply; an end of input inside the head one wrapping
// ErrBadReply; other read errors (a timeout, a closed connection) are
// returned as they are.
func ReadReply(br *bufio.Reader, req *http.Request, max int) (*http.Response, error) {
	res, _, err := parseReply(br, req, max, false)
	return res, err
}

// parseReply is ReadReply, also reporting whether the backend offered to
// keep the connection: an HTTP/1.1 status line with "Connection:
// keep-alive" (read before the hop-by-hop headers go) and a body whose
// end the reply frames (Content-Length, chunked, or none at all). With
// h1 the reply is an HTTP/1.x server's (see Exchange.HTTP and http1.go).
func parseReply(br *bufio.Reader, req *http.Request, max int, h1 bool) (res *http.Response, keep bool, err error) {
	if max <= 0 {
		max = DefaultMaxHeaderBytes
	}
	if _, err := br.Peek(1); err != nil {
		if err == io.EOF {
			return nil, false, ErrNoReply
		}
		if errors.Is(err, syscall.ECONNRESET) {
			// uWSGI resets the connection of a request no plugin serves.
			return nil, false, fmt.Errorf("%w: %w", ErrNoReply, err)
		}
		return nil, false, err
	}
	hr := headReader{br: br, budget: max, max: max, h1: h1}
	res = &http.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: req, ContentLength: -1}
	var h http.Header
	cgiForm := false
	for {
		code, reason, status, err := hr.statusLine(res)
		if err != nil {
			return nil, false, err
		}
		if code == 0 && h1 {
			return nil, false, fmt.Errorf("%w: no status line", ErrBadReply)
		}
		if h, err = hr.header(); err != nil {
			return nil, false, err
		}
		if code == 0 {
			cgiForm = true
			code, reason, err = cgiStatus(h)
			if err != nil {
				return nil, false, err
			}
		} else if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
			if h1 {
				if err := got1xx(req, code, h); err != nil {
					return nil, false, err
				}
			}
			continue // an interim head: the final one follows
		}
		if code < 200 || code > 999 {
			return nil, false, fmt.Errorf("%w: status %d", ErrBadReply, code)
		}
		res.StatusCode, res.Status = code, status
		if reason == "" || len(status) != 4+len(reason) {
			// Not "200 OK" as the line has it: built.
			if reason == "" {
				reason = http.StatusText(code)
			}
			res.Status = strconv.Itoa(code) + " " + reason
		}
		break
	}
	// A CGI body ends with the output; an HTTP/1.1 one may be chunked.
	chunked := !cgiForm && res.ProtoMinor >= 1 && len(h["Transfer-Encoding"]) > 0 &&
		strings.EqualFold(textproto.TrimString(lastElem(h["Transfer-Encoding"])), "chunked")
	keep = !cgiForm && res.ProtoMajor == 1 && res.ProtoMinor >= 1 && hasToken(h["Connection"], "keep-alive")
	if h1 {
		// An HTTP server's Status header is its own, passed on.
		if chunked, err = transferHTTP(res, h); err != nil {
			return nil, false, err
		}
		keep = keepHTTP(res, h)
		if cls, ok := h["Content-Length"]; ok && !validLength(cls) {
			// Checked even when chunked framing overrides it, as net/http does.
			return nil, false, fmt.Errorf("%w: Content-Length %q", ErrBadReply, cls)
		}
		if chunked {
			if res.Trailer, err = announcedTrailer(h); err != nil {
				return nil, false, err
			}
		}
	} else {
		delete(h, "Status")
	}
	RemoveHopByHop(h)
	res.Header = h

	body := &replyBody{r: br, n: -1}
	if cls := h["Content-Length"]; len(cls) > 0 && !chunked {
		n, err := strconv.ParseInt(textproto.TrimString(cls[0]), 10, 64)
		for _, v := range cls[1:] {
			if textproto.TrimString(v) != textproto.TrimString(cls[0]) {
				err = errors.New("conflicting values")
			}
		}
		if err != nil || n < 0 {
			return nil, false, fmt.Errorf("%w: Content-Length %q", ErrBadReply, cls)
		}
		h["Content-Length"] = cls[:1]
		res.ContentLength, body.n = n, n
	} else if chunked {
		delete(h, "Content-Length")
		res.TransferEncoding = []string{"chunked"}
		body.r = httputil.NewChunkedReader(br)
		if h1 {
			body.r = newTrailerReader(br, hr, res)
		}
	}
	switch {
	case req != nil && req.Method == http.MethodHead:
		res.Body = http.NoBody
	case res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusNotModified:
		res.Body, res.ContentLength = http.NoBody, 0
	default:
		res.Body = body
		keep = keep && (res.ContentLength >= 0 || chunked)
	}
	return res, keep, nil
}

// hasToken reports whether the comma-separated lists of vs hold token,
// in any case.
func hasToken(vs []string, token string) bool {
	for _, v := range vs {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}

// headReader reads the lines of a head, charging them to a budget.
type headReader struct {
	br     *bufio.Reader
	budget int
	max    int
	lines  int
	h1     bool // an HTTP server's status line: see strictStatus
}

// line returns the next line without its LF or CRLF. The bytes are valid
// until the next read.
func (hr *headReader) line() ([]byte, error) {
	var long []byte // a line longer than br's buffer
	for {
		chunk, err := hr.br.ReadSlice('\n')
		hr.budget -= len(chunk)
		if hr.budget < 0 {
			return nil, fmt.Errorf("%w: %w (over %d bytes)", ErrBadReply, ErrHeaderTooLarge, hr.max)
		}
		if err == bufio.ErrBufferFull {
			long = append(long, chunk...)
			continue
		}
		if err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("%w: reply ended inside its headers", ErrBadReply)
			}
			return nil, err
		}
		hr.lines++
		if long != nil {
			chunk = append(long, chunk...)
		}
		chunk = chunk[:len(chunk)-1]
		if n := len(chunk); n > 0 && chunk[n-1] == '\r' {
			chunk = chunk[:n-1]
		}
		return chunk, nil
	}
}

// statusLine reads an "HTTP/1.x NNN reason" line when the head starts
// with one, setting res's protocol; code is 0 for a CGI head. status is
// what follows the version, the Status of the response when it is
// exactly the code, a space and the reason.
func (hr *headReader) statusLine(res *http.Response) (code int, reason, status string, err error) {
	if b, _ := hr.br.Peek(5); string(b) != "HTTP/" {
		if hr.lines > 0 {
			return 0, "", "", fmt.Errorf("%w: no final status line after an interim one", ErrBadReply)
		}
		return 0, "", "", nil
	}
	line, err := hr.line()
	if err != nil {
		return 0, "", "", err
	}
	proto, status, _ := strings.Cut(string(line), " ")
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		return 0, "", "", fmt.Errorf("%w: status line %q", ErrBadReply, truncate(line))
	}
	res.Proto, res.ProtoMajor, res.ProtoMinor = proto, major, minor
	if hr.h1 && (major != 1 || !strictStatus(status)) {
		return 0, "", "", fmt.Errorf("%w: status line %q", ErrBadReply, truncate(line))
	}
	code, reason, err = parseStatus(status)
	return code, reason, status, err
}

// header reads header lines up to the empty line that ends them.
func (hr *headReader) header() (http.Header, error) {
	h := make(http.Header, 4)
	// The values of the names seen once share one backing array, as
	// net/textproto does: a reply's head costs few allocations.
	var strs []string
	for {
		line, err := hr.line()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			return h, nil
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 || !isToken(line[:i]) {
			return nil, fmt.Errorf("%w: header line %q", ErrBadReply, truncate(line))
		}
		s := string(line) // the name and the value are cut from this one copy
		v := textproto.TrimString(s[i+1:])
		if strings.ContainsAny(v, "\x00\r") || hr.h1 && hasCTL(s[i+1:]) {
			return nil, fmt.Errorf("%w: NUL, CR or a control byte in header %s", ErrBadReply, s[:i])
		}
		key := textproto.CanonicalMIMEHeaderKey(s[:i]) // s[:i] itself when canonical
		if vs, ok := h[key]; ok {
			h[key] = append(vs, v)
			continue
		}
		if len(strs) == cap(strs) {
			strs = make([]string, 0, 8)
		}
		strs = append(strs, v)
		h[key] = strs[len(strs)-1 : len(strs) : len(strs)] // an append copies
	}
}

// cgiStatus returns the status of a CGI head: its Status header, else 302
// with a Location, else 200.
func cgiStatus(h http.Header) (int, string, error) {
	switch s := h["Status"]; {
	case len(s) > 1:
		return 0, "", fmt.Errorf("%w: %d Status headers", ErrBadReply, len(s))
	case len(s) == 1:
		return parseStatus(s[0])
	case h.Get("Location") != "":
		return http.StatusFound, "", nil
	}
	return http.StatusOK, "", nil
}

// parseStatus reads "404 Not Found" or "404": three digits, then an
// optional reason.
func parseStatus(s string) (int, string, error) {
	s = textproto.TrimString(s)
	num, reason, _ := strings.Cut(s, " ")
	code, err := strconv.Atoi(num)
	if err != nil || len(num) != 3 || num[0] == '+' || num[0] == '-' || strings.ContainsAny(reason, "\x00\r") {
		return 0, "", fmt.Errorf("%w: status %q", ErrBadReply, truncate([]byte(s)))
	}
	return code, textproto.TrimString(reason), nil
}

func lastElem(vs []string) string {
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return v
}

// isToken reports whether b is an RFC 9110 token (a header name).
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for _, c := range "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		t[c] = true
	}
	return t
}()

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// replyBody reads a reply's body: n bytes, or to EOF when n is -1. Close
// does nothing; the caller owns the connection.
type replyBody struct {
	r io.Reader
	n int64
}

func (b *replyBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, io.EOF
	}
	if b.n > 0 && int64(len(p)) > b.n {
		p = p[:b.n]
	}
	k, err := b.r.Read(p)
	if b.n > 0 {
		b.n -= int64(k)
		if err == io.EOF && b.n > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	return k, err
}

func (b *replyBody) Close() error { return nil }

// ShortReply reports whether the body of a reply whose head was just read
// from br (over c) ends within br's buffer, waiting at most wait for the
// backend to finish it; n is then the body's length. Gateways that close
// the connection to end a reply (SCGI, uwsgi) use it to give short
// replies a Content-Length, so a proxy sends them in one write instead of
// flushing them as a stream. A reply still going after wait, or larger
// than the buffer, is left to stream; nothing read is lost either way.
func ShortReply(c net.Conn, br *bufio.Reader, wait time.Duration) (n int, ok bool) {
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return 0, false
	}
	_, err := br.Peek(br.Size())
	c.SetReadDeadline(time.Time{})
	if errors.Is(err, io.EOF) {
		return br.Buffered(), true
	}
	// A timeout or a full buffer: a stream or a long reply. Any other
	// error shows again on the next read.
	return 0, false
}

// Exchange tunes RoundTripConn.
type Exchange struct {
	// MaxHeaderBytes bounds the reply's head (see ReadReply); zero means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// ResponseHeaderTimeout bounds the wait for the reply's head once the
	// request is sent; zero means no limit.
	ResponseHeaderTimeout time.Duration
	// HTTP says the backend is an HTTP/1.x server (the http_proxy
	// client), not a gateway, and its reply is read as net/http's
	// Transport reads one: it must start with a status line; interim 1xx
	// heads go to the request's httptrace Got1xxResponse; a Status
	// header is the server's own; Transfer-Encoding is "chunked" alone
	// or refused; Content-Length is digits; a chunked body's trailers are
	// read into Response.Trailer (the Trailer header's names before the
	// body, their values at its end). With RoundTripPool, the connection
	// is kept as HTTP/1.1 keeps it (unless the reply says Connection:
	// close; an HTTP/1.0 reply only with keep-alive), and a request is
	// sent again on a new connection after a kept one failed only when
	// net/http would: no body, and GET, HEAD, OPTIONS or TRACE or an
	// Idempotency-Key header.
	HTTP bool
}

// shortReplyWait is how long a reply without Content-Length is given to
// end within the read buffer before it is passed on as a stream.
const shortReplyWait = 2 * time.Millisecond

// RoundTrip sends req over c, a connection of its own that the backend
// closes to end its reply (SCGI, uwsgi), and reads the reply with
// ReadReply. head is the request as the protocol encodes it; exactly
// req.ContentLength bytes of req.Body follow it, written concurrently, so
// a backend that replies before reading the body does not stall. A reply
// without Content-Length that has ended within the first read buffer gets
// one (ShortReply), so a proxy can send it in one write.
//
// The response body's Close closes c; on an error c is already closed.
// Cancelling req's context closes c. The error of a failed write is
// returned in place of the read error it caused.
func (e Exchange) RoundTrip(c net.Conn, req *http.Request, head []byte) (*http.Response, error) {
	res, _, err := e.roundTrip(&PoolConn{Conn: c, Reader: bufio.NewReaderSize(c, 4096)}, req, head, nil)
	return res, err
}

// roundTrip is RoundTrip over pc, whose connection goes back to pool
// (when not nil) if the backend keeps it (see RoundTripPool). stale
// reports an error before a byte of reply: the backend had closed the
// connection.
func (e Exchange) roundTrip(pc *PoolConn, req *http.Request, head []byte, pool *Pool) (res *http.Response, stale bool, err error) {
	c, br := pc.Conn, pc.Reader
	ctx := req.Context()
	stop := noStop
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { c.Close() })
	}
	x := &exchange{c: c, stop: stop, pool: pool, pc: pc}
	clen := req.ContentLength
	if req.Body == nil || req.Body == http.NoBody || clen < 0 {
		clen = 0
	}
	timeout := e.ResponseHeaderTimeout
	if clen == 0 {
		// Nothing to stream: one write, here rather than in a goroutine.
		x.sendErr = x.send(head, req.Body, 0, timeout)
		// Behind a request on a connection kept before: a backend
		// that closes after each reply would leave nothing behind it
		// served.
		// (A request written behind another was counted when its turn
		// came.)
		if x.sendErr == nil && pool != nil && pool.Pipeline > 0 && pc.Reused && len(head) > 0 {
			pool.written(pc)
		}
	} else {
		written := make(chan error, 1)
		x.written = written
		go func() { written <- x.send(head, req.Body, clen, timeout) }()
	}
	res, keep, err := parseReply(br, req, e.MaxHeaderBytes, e.HTTP)
	if err != nil {
		x.close()
		stale = errors.Is(err, ErrNoReply)
		// A failed write says more than the read that followed it
		// (not the write that met our own close).
		if werr, _ := x.sent(100 * time.Millisecond); werr != nil && !errors.Is(err, ErrBadReply) && !errors.Is(werr, net.ErrClosed) {
			err = werr
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, stale, err
	}
	if timeout > 0 {
		// Without a timeout no deadline was set: none to clear, and no
		// runtime timer touched per request.
		x.mu.Lock()
		x.headRead = true
		c.SetReadDeadline(time.Time{})
		x.mu.Unlock()
	}
	if keep && pool != nil {
		pc.bodiless = res.Body == http.NoBody
		if pc.bodiless {
			x.finish(pool, pc, true)
		} else {
			res.Body = newKeptBody(res, x, pool, pc)
		}
		return res, false, nil
	}
	if res.Body == http.NoBody {
		x.close()
		return res, false, nil
	}
	if res.ContentLength < 0 && res.TransferEncoding == nil {
		if n, ok := ShortReply(c, br, shortReplyWait); ok {
			res.ContentLength = int64(n)
		}
	}
	res.Body = &exchangeBody{ReadCloser: res.Body, x: x}
	return res, false, nil
}

// noStop is the stop of an exchange whose context cannot be cancelled:
// nothing to stop, and nothing closed the connection.
func noStop() bool { return true }

// exchange is one request's connection.
type exchange struct {
	c    net.Conn
	stop func() bool
	// When pool is not nil, c is pc's, closed through pool.
	pool *Pool
	pc   *PoolConn
	// The outcome of send: sendErr when it ran inline (no body),
	// through written when it runs in a goroutine of its own.
	sendErr error
	written <-chan error
	kept    keptBody // the response body on a kept connection

	mu       sync.Mutex
	headRead bool
	once     sync.Once
}

func (x *exchange) close() {
	x.once.Do(func() {
		x.stop()
		x.release()
	})
}

// release closes c; a pooled connection through its pool, which frees
// its slot.
func (x *exchange) release() {
	if x.pool != nil {
		x.pool.Put(x.pc, false)
		return
	}
	x.c.Close()
}

// sent returns the outcome of send, waiting at most wait for a send
// still writing a body; done is false when it has not ended by then. It
// is called once.
func (x *exchange) sent(wait time.Duration) (err error, done bool) {
	if x.written == nil {
		return x.sendErr, true
	}
	select {
	case err := <-x.written:
		return err, true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-x.written:
		return err, true
	case <-t.C:
		return nil, false
	}
}

// send writes head and clen bytes of body, closes body, then arms the
// response header timeout, and returns the write's error. A body that
// cannot be read to its length (the client went away or sent a broken
// body) closes the connection: the backend would otherwise wait for the
// rest of it, and the reply with it.
func (x *exchange) send(head []byte, body io.ReadCloser, clen int64, timeout time.Duration) error {
	err := x.write(head, body, clen)
	if body != nil {
		body.Close()
	}
	if errors.Is(err, ErrRequestBody) {
		x.close()
	}
	if err == nil && timeout > 0 {
		x.mu.Lock()
		if !x.headRead {
			x.c.SetReadDeadline(time.Now().Add(timeout))
		}
		x.mu.Unlock()
	}
	return err
}

func (x *exchange) write(head []byte, body io.Reader, clen int64) error {
	if clen == 0 {
		if len(head) == 0 {
			return nil // written already (Pool.Pipeline)
		}
		_, err := x.c.Write(head)
		return err
	}
	bw := bufio.NewWriterSize(x.c, 32<<10)
	bw.Write(head) // an error shows at Flush
	br := &bodyReader{r: body}
	n, err := io.Copy(bw, io.LimitReader(br, clen))
	if br.err != nil {
		return RequestBodyError(br.err)
	}
	if err != nil {
		return fmt.Errorf("send body: %w", err)
	}
	if n < clen {
		return RequestBodyError(fmt.Errorf("%w after %d of %d bytes", io.ErrUnexpectedEOF, n, clen))
	}
	return bw.Flush()
}

// ErrRequestBody marks an error reading the request's body, as opposed to
// writing to the backend: the client's fault, not the backend's.
var ErrRequestBody = errors.New("gateway: reading the request body")

// RequestBodyError wraps err, an error reading the request body (or its
// end before the announced length), so that it matches ErrRequestBody.
func RequestBodyError(err error) error {
	return fmt.Errorf("%w: %w", ErrRequestBody, err)
}

// bodyReader keeps the error its reader returned, other than io.EOF.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// exchangeBody closes the connection when the response body is closed.
type exchangeBody struct {
	io.ReadCloser
	x *exchange
}

func (b *exchangeBody) Close() error {
	b.x.close()
	return nil
}
