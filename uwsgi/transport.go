package uwsgi

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

// Transport sends requests to one uwsgi backend: a new connection per
// request (the protocol has no keep-alive), the packet and the body
// streamed, the reply (an HTTP status line or CGI-style Status header)
// streamed back. It is safe for concurrent use.
type Transport struct {
	// Addr is the backend: "host:port" or "unix:/path/to.sock". Empty
	// means the request URL's host.
	Addr string
	// Modifier1 and Modifier2 go in every packet header. uWSGI's Python
	// plugin takes 0 (the default), its CGI plugin 9, PSGI 5.
	Modifier1, Modifier2 uint8
	// Vars tunes the CGI variables sent (SCRIPT_NAME override, extras).
	Vars cgivars.Options
	// DialTimeout bounds connecting; zero means 10 seconds.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the reply's headers after
	// the request is sent; zero means no limit.
	ResponseHeaderTimeout time.Duration
	// Dial, when set, opens connections instead of a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// EmptyReplyError is returned when the backend closes the connection
// without a byte of reply. uWSGI does that for a modifier1 it has no plugin
// for, so the error names the modifier sent.
type EmptyReplyError struct {
	Addr      string
	Modifier1 uint8
}

func (e *EmptyReplyError) Error() string {
	return fmt.Sprintf("uwsgi: backend %s closed the connection without a reply (modifier1 %d; does it serve that modifier?)", e.Addr, e.Modifier1)
}

// SplitAddr turns "unix:/path" or "host:port" into a network and address.
func SplitAddr(addr string) (network, address string) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", p
	}
	return "tcp", addr
}

// RoundTrip implements http.RoundTripper. A request body of unknown length
// gives an error wrapping cgivars.ErrLengthRequired: uwsgi needs
// CONTENT_LENGTH, so the caller spools the body first.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(req)
	if err != nil && req.Body != nil {
		req.Body.Close()
	}
	return resp, err
}

func (t *Transport) roundTrip(req *http.Request) (*http.Response, error) {
	vars, err := cgivars.FromRequest(req, t.Vars)
	if err != nil {
		return nil, fmt.Errorf("uwsgi: %w", err)
	}
	uv := make([]Var, len(vars))
	for i, p := range vars {
		uv[i] = Var{p.Name, p.Value}
	}
	packet, err := AppendPacket(nil, t.Modifier1, t.Modifier2, uv)
	if err != nil {
		return nil, err
	}
	addr := t.Addr
	if addr == "" {
		addr = req.URL.Host
	}
	ctx := req.Context()
	c, err := t.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	// The connection lives until the response body is closed; a
	// cancelled request closes it at once.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		c.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, err
	}

	if req.ContentLength > 0 && req.Body != nil && req.Body != http.NoBody {
		if _, err := c.Write(packet); err != nil {
			return fail(fmt.Errorf("uwsgi: write to %s: %w", addr, err))
		}
		// The body goes in the background so that a backend that
		// replies before reading it all does not deadlock us.
		go func() {
			// An error here shows as a failed or short reply.
			io.Copy(c, io.LimitReader(req.Body, req.ContentLength))
			req.Body.Close()
		}()
	} else if _, err := c.Write(packet); err != nil {
		return fail(fmt.Errorf("uwsgi: write to %s: %w", addr, err))
	}

	if t.ResponseHeaderTimeout > 0 {
		c.SetReadDeadline(time.Now().Add(t.ResponseHeaderTimeout))
	}
	br := bufio.NewReaderSize(c, 4096)
	resp, err := readResponse(br, req)
	if err != nil {
		if errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			err = &EmptyReplyError{Addr: addr, Modifier1: t.Modifier1}
		} else {
			err = fmt.Errorf("uwsgi: read reply from %s: %w", addr, err)
		}
		return fail(err)
	}
	c.SetReadDeadline(time.Time{})
	if resp.ContentLength < 0 && req.Method != http.MethodHead {
		if n, ok := cgivars.ShortReply(c, br, shortReplyWait); ok {
			// The whole reply is buffered: give it a length, so the
			// proxy sends it in one write instead of flushing as for a
			// stream.
			resp.ContentLength = int64(n)
		}
	}
	resp.Body = &replyBody{r: resp.Body, c: c, stop: stop}
	return resp, nil
}

func (t *Transport) dial(ctx context.Context, addr string) (net.Conn, error) {
	network, address := SplitAddr(addr)
	timeout := t.DialTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var c net.Conn
	var err error
	if t.Dial != nil {
		c, err = t.Dial(dctx, network, address)
	} else {
		var d net.Dialer
		c, err = d.DialContext(dctx, network, address)
	}
	if err != nil {
		return nil, fmt.Errorf("uwsgi: dial %s: %w", addr, err)
	}
	return c, nil
}

// shortReplyWait is how long a reply without Content-Length is given to
// end within the read buffer before it is passed on as a stream.
const shortReplyWait = 2 * time.Millisecond

// readResponse reads an HTTP status line reply, or a CGI-style one
// (headers with an optional Status, as some uwsgi applications send).
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	first, err := br.Peek(5)
	if err != nil {
		if len(first) == 0 {
			return nil, io.EOF
		}
		return nil, io.ErrUnexpectedEOF
	}
	if string(first) == "HTTP/" {
		resp, err := http.ReadResponse(br, req)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return resp, err
	}
	return ReadCGIResponse(br, req)
}

// ReadCGIResponse reads a CGI-style reply (RFC 3875 section 6: headers, a
// "Status: 404 Not Found" header or a Location without one, a blank line,
// the body until EOF).
func ReadCGIResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	mh, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	h := http.Header(mh)
	resp := &http.Response{
		Status: "200 OK", StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Request: req, ContentLength: -1,
	}
	if s := h.Get("Status"); s != "" {
		code, err := strconv.Atoi(strings.Fields(s + " x")[0])
		if err != nil || code < 100 || code > 999 {
			return nil, fmt.Errorf("bad Status header %q", s)
		}
		resp.StatusCode, resp.Status = code, strings.TrimSpace(s)
		h.Del("Status")
	} else if h.Get("Location") != "" {
		resp.StatusCode, resp.Status = http.StatusFound, "302 Found"
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			resp.ContentLength = n
		}
	}
	var body io.Reader = br
	if resp.ContentLength >= 0 {
		body = io.LimitReader(br, resp.ContentLength)
	}
	if req != nil && req.Method == http.MethodHead {
		body = strings.NewReader("")
	}
	resp.Body = io.NopCloser(body)
	return resp, nil
}

// replyBody closes the connection when the response body is closed.
type replyBody struct {
	r    io.ReadCloser
	c    net.Conn
	stop func() bool
	once sync.Once
}

func (b *replyBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *replyBody) Close() error {
	b.once.Do(func() {
		b.stop()
		b.c.Close()
		// The body writer, if still running, ends on its own: its write
		// fails now, or its read of req.Body ends with that body.
	})
	return nil
}

var _ http.RoundTripper = (*Transport)(nil)
