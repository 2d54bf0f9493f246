package proxy

// This file is http_proxy's HTTP/1.1 client: the request's headers (one
// rule for both paths, forwardHeader), the request head encoded on the
// handler's goroutine, and the transport that sends it over a
// gateway.Pool and reads the reply with gateway's parser
// (Exchange.HTTP), with net/http's Transport behind it for what it does
// not do itself.

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/mount"
)

// forwardHeader is http_proxy's rule for the headers an HTTP backend
// gets, applied on both paths (HTTPRewrite through ReverseProxy, and
// httpHeader for the direct one) so that they cannot differ: out, the
// request's end-to-end headers, loses those no backend gets
// (cgivars.Forbidden: Proxy and names with an underscore), and gets
// X-Forwarded-For (the client's chain from in plus this hop; none when
// in's RemoteAddr has no port), X-Forwarded-Host (in's Host),
// X-Forwarded-Proto and X-Forwarded-Prefix (the mount point; a client's
// own is dropped), as httputil.ProxyRequest.SetXForwarded sets the first
// three.
func forwardHeader(in *http.Request, out http.Header) {
	for k := range out {
		if cgivars.Forbidden(k) {
			delete(out, k)
		}
	}
	// One backing array for the values set here: an append copies.
	vals := make([]string, 4)
	if ip, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		if prior := in.Header["X-Forwarded-For"]; len(prior) > 0 {
			ip = strings.Join(prior, ", ") + ", " + ip
		}
		vals[0] = ip
		out["X-Forwarded-For"] = vals[0:1:1]
	} else {
		delete(out, "X-Forwarded-For")
	}
	vals[1] = in.Host
	out["X-Forwarded-Host"] = vals[1:2:2]
	vals[2] = "http"
	if in.TLS != nil {
		vals[2] = "https"
	}
	out["X-Forwarded-Proto"] = vals[2:3:3]
	if prefix := mount.ScriptName(in.Context()); prefix != "" {
		vals[3] = prefix
		out["X-Forwarded-Prefix"] = vals[3:4:4]
	} else {
		delete(out, "X-Forwarded-Prefix")
	}
}

// trailersOnly is the TE header ReverseProxy sends when the client's
// names trailers. Shared: nothing changes it in place.
var trailersOnly = []string{"trailers"}

// httpHeader returns the headers the direct path sends for in: what
// ReverseProxy keeps of the client's (the hop-by-hop headers, those the
// Connection header names, the proxy credentials and the client's
// Forwarded, X-Forwarded-For, -Host and -Proto go; TE: trailers stays
// when the client's TE names trailers), then forwardHeader. Values are
// shared with in.Header, not copied.
func httpHeader(in *http.Request) http.Header {
	h := in.Header
	out := make(http.Header, len(h)+4)
	for k, vs := range h {
		switch k {
		case "Proxy-Authorization", "Proxy-Authenticate", "Forwarded",
			"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
			continue
		}
		if !gateway.IsHopByHop(k) {
			out[k] = vs
		}
	}
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				delete(out, textproto.CanonicalMIMEHeaderKey(name))
			}
		}
	}
	if gateway.HasToken(h["Te"], "trailers") {
		out["Te"] = trailersOnly
	}
	forwardHeader(in, out)
	return out
}

// plainHTTP reports whether the direct path serves r for http_proxy:
// nothing in it needs httputil.ReverseProxy and net/http's Transport. A
// protocol upgrade (Connection: upgrade, for WebSocket), a body of
// unknown length (a chunked upload) and its trailers, Expect (the
// Transport's wait for 100 Continue) and CONNECT take ReverseProxy.
func plainHTTP(r *http.Request) bool {
	if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody || r.Trailer != nil || r.Method == http.MethodConnect {
		return false
	}
	if _, ok := r.Header["Expect"]; ok {
		return false
	}
	return !gateway.HasToken(r.Header["Connection"], "upgrade")
}

// interim forwards a backend's 1xx heads (103 Early Hints) to the
// client as ReverseProxy does: the head's headers on w, WriteHeader,
// then w's headers cleared. done stops it once the round trip has
// returned.
type interim struct {
	w     http.ResponseWriter
	mu    sync.Mutex
	done  bool
	trace httptrace.ClientTrace
}

func newInterim(w http.ResponseWriter) *interim {
	it := &interim{w: w}
	it.trace.Got1xxResponse = it.got1xx
	return it
}

func (it *interim) got1xx(code int, h textproto.MIMEHeader) error {
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.done {
		return nil
	}
	wh := it.w.Header()
	for k, vs := range h {
		wh[k] = append(wh[k], vs...)
	}
	it.w.WriteHeader(code)
	clear(wh) // WriteHeader does not for a 1xx
	return nil
}

func (it *interim) stop() {
	it.mu.Lock()
	it.done = true
	it.mu.Unlock()
}

// httpTransport is the http_proxy transport of one backend: requests it
// can encode exactly (appendRequestHead) go over its pool of kept
// connections, read on the caller's goroutine; the others to t, the
// net/http Transport.
type httpTransport struct {
	pool *gateway.Pool
	x    gateway.Exchange
	host string // the Host sent when the request has none
	t    *hostTransport
}

func newHTTPTransport(b Backend, o Options, idle int, t *hostTransport) *httpTransport {
	return &httpTransport{
		pool: &gateway.Pool{
			Dial: func(ctx context.Context) (net.Conn, error) {
				return b.Dial(ctx, o.ConnectTimeout, nil)
			},
			MaxIdle:     idle,
			IdleTimeout: 90 * time.Second,
			Alive:       gateway.PeekAlive,
		},
		x:    gateway.Exchange{ResponseHeaderTimeout: o.ResponseHeaderTimeout, HTTP: true},
		host: t.host,
		t:    t,
	}
}

// headBufs holds the heads of requests without a body, which are written
// before RoundTripPool returns.
var headBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (h *httpTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	bp := headBufs.Get().(*[]byte)
	head, ok := appendRequestHead((*bp)[:0], req, h.host)
	if !ok {
		headBufs.Put(bp)
		return h.t.RoundTrip(req)
	}
	res, err := h.x.RoundTripPool(h.pool, req, head)
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
		*bp = head
		headBufs.Put(bp) // written: the body, if any, is written after it
	}
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return res, nil
}

func (h *httpTransport) CloseIdleConnections() {
	h.pool.CloseIdle()
	h.t.CloseIdleConnections()
}

// appendRequestHead appends req's head as net/http's Transport writes
// it for a backend (the request line with the URL's path and query, Host
// (req.Host, else host), User-Agent when the request has a non-empty one
// (never Go's default), Content-Length (for a body, and for POST, PUT and
// PATCH without), then req.Header but for those framing fields, values
// trimmed), and reports whether it could: false for what only the
// Transport does exactly (Connection or Expect in the header, Close, a
// body of unknown length, an opaque URL, a Host that needs Punycode or
// has a zone, CONNECT) and for what it refuses (an invalid method,
// header name or value, a control byte in the target), which are then
// left to it.
func appendRequestHead(b []byte, req *http.Request, host string) ([]byte, bool) {
	u := req.URL
	if req.Close || u == nil || u.Opaque != "" || len(req.TransferEncoding) > 0 || req.Trailer != nil {
		return b, false
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if req.ContentLength < 0 || req.ContentLength == 0 && hasBody {
		return b, false // the Transport sends such a body chunked
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if method == http.MethodConnect || !gateway.IsToken(method) {
		return b, false
	}
	if req.Host != "" {
		host = req.Host
	}
	if !validHost(host) {
		return b, false
	}
	b = append(b, method...)
	b = append(b, ' ')
	start := len(b)
	if p := u.EscapedPath(); p != "" {
		b = append(b, p...)
	} else {
		b = append(b, '/')
	}
	if u.ForceQuery || u.RawQuery != "" {
		b = append(b, '?')
		b = append(b, u.RawQuery...)
	}
	for _, c := range b[start:] {
		if c <= ' ' || c == 0x7f {
			return b, false
		}
	}
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	if ua := req.Header["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		b = append(b, "User-Agent: "...)
		b = append(b, ua[0]...)
		b = append(b, "\r\n"...)
	}
	switch {
	case req.ContentLength > 0:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, req.ContentLength, 10)
		b = append(b, "\r\n"...)
	case method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch:
		b = append(b, "Content-Length: 0\r\n"...)
	}
	for k, vs := range req.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
			// Written above or not at all, as the Transport does; the
			// values are still checked, as it checks them.
			for _, v := range vs {
				if !validValue(v) {
					return b, false
				}
			}
			continue
		case "Connection", "Expect":
			return b, false
		}
		if !gateway.IsToken(k) {
			return b, false
		}
		for _, v := range vs {
			if !validValue(v) {
				return b, false
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, textproto.TrimString(v)...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...), true
}

// validValue reports whether v may be sent as a header value, as
// net/http checks it: no control byte but HTAB.
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether host is sent as it is by net/http: the
// bytes its Host check allows, ASCII only (it converts others to
// Punycode) and without '%' (it drops an IPv6 zone).
func validHost(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c >= 0x80 || !hostChar[c] {
			return false
		}
	}
	return true
}

var hostChar = func() (t [128]bool) {
	for _, c := range "!$&'()*+,-.:;=[]_~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		t[c] = true
	}
	return t
}()

var _ http.RoundTripper = (*httpTransport)(nil)
