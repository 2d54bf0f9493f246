package uwsgi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/proxy"
)

// Transport sends requests to one uwsgi backend: a new connection per
// request (the protocol has no keep-alive), the packet and the body
// streamed, the reply (an HTTP status line or CGI-style Status header,
// read by the one gateway reply parser) streamed back. It is safe for
// concurrent use.
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
	Dial proxy.DialFunc
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

// Unwrap returns gateway.ErrNoReply (scgi.ErrEmptyReply).
func (e *EmptyReplyError) Unwrap() error { return gateway.ErrNoReply }

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
	c, err := proxy.DialAddr(req.Context(), addr, t.DialTimeout, t.Dial)
	if err != nil {
		return nil, fmt.Errorf("uwsgi: dial %s: %w", addr, err)
	}
	x := gateway.Exchange{ResponseHeaderTimeout: t.ResponseHeaderTimeout}
	resp, err := x.RoundTrip(c, req, packet)
	if errors.Is(err, gateway.ErrNoReply) && req.Context().Err() == nil {
		return nil, &EmptyReplyError{Addr: addr, Modifier1: t.Modifier1}
	}
	if err != nil {
		return nil, fmt.Errorf("uwsgi: backend %s: %w", addr, err)
	}
	return resp, nil
}

var _ http.RoundTripper = (*Transport)(nil)
