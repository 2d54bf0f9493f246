package scgi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/proxy"
)

// Transport sends requests to an SCGI backend: a new connection per
// request (SCGI has no keep-alive), the header netstring and the body
// streamed, the reply read by the one gateway reply parser (CGI style,
// "Status:" and headers with Location alone meaning 302, or an HTTP
// status line; see docs/protocols.md) and its body streamed back until
// the backend closes. It is safe for concurrent use.
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
	MaxResponseHeaderBytes int
	// Dial, when set, opens connections instead of a net.Dialer.
	Dial proxy.DialFunc
}

var (
	// ErrEmptyReply reports a backend that closed the connection without
	// sending a byte of reply.
	ErrEmptyReply = gateway.ErrNoReply
	// ErrBadReply reports a reply whose status or headers cannot be read,
	// or whose header block is over MaxResponseHeaderBytes.
	ErrBadReply = gateway.ErrBadReply
)

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
	head, err := AppendHeaders(make([]byte, 0, 1024), vars)
	if err != nil {
		return nil, err
	}
	addr := t.Addr
	if addr == "" {
		addr = req.URL.Host
	}
	c, err := proxy.DialAddrOnce(req.Context(), addr, t.DialTimeout, t.Dial)
	if err != nil {
		return nil, fmt.Errorf("scgi: backend %s: %w", addr, err)
	}
	x := gateway.Exchange{MaxHeaderBytes: t.MaxResponseHeaderBytes, ResponseHeaderTimeout: t.ResponseHeaderTimeout}
	res, err := x.RoundTrip(c, req, head)
	if err != nil {
		return nil, fmt.Errorf("scgi: backend %s: %w", addr, err)
	}
	return res, nil
}

var _ http.RoundTripper = (*Transport)(nil)
