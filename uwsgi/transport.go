package uwsgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/proxy"
)

// Transport sends requests to one uwsgi backend: a new connection per
// request (the protocol has no keep-alive), the packet and the body
// streamed, the reply (an HTTP status line or CGI-style Status header,
// read by the one gateway reply parser) streamed back. With KeepAlive,
// connections are kept for further requests by backends that agree to
// it (gopaste's extension, see [KeepAliveVar]). It is safe for
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
	// KeepAlive sends KeepAliveVar with every request and keeps the
	// connection of each reply that agrees to it (a gopaste worker
	// built on Server does; uWSGI ignores the variable and closes as
	// usual). Set it before the first request.
	KeepAlive bool
	// MaxIdleConns bounds the kept connections waiting for a request;
	// zero means 2. Set it to the backend's concurrency.
	MaxIdleConns int
	// IdleConnTimeout is how long a kept connection may wait for its
	// next request; zero means 30 seconds (the Server waits a minute).
	IdleConnTimeout time.Duration
	// MaxConns bounds the connections open at once, with KeepAlive; a
	// request beyond it waits for one to come back. Zero means no bound.
	MaxConns int
	// Pipeline, with KeepAlive and MaxConns, is how many GET or HEAD
	// requests without a body may be written behind the request running
	// on a connection when every connection is busy, rather than wait
	// (gateway.Pool's Pipeline): for gopaste's own workers, which read
	// a kept connection's requests in order. Set it before the first
	// request.
	Pipeline int

	pools gateway.Pools // by address, with KeepAlive
}

// KeepAliveVar is the variable, with the value "1", by which a client
// asks to keep the connection for further requests: gopaste's extension
// of uwsgi, between its Transport and its Server (and its Python
// worker). A Server that sees it answers with "Connection: keep-alive"
// and a framed body (Content-Length or chunked) when it can, reads the
// next request on the connection, and never passes the variable to the
// handler. See docs/protocols.md.
const KeepAliveVar = "GOPASTE_KEEPALIVE"

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
	if t.KeepAlive {
		vars = append(vars, Var{Name: KeepAliveVar, Value: "1"})
	}
	// Sized once: appending to nil would grow it a dozen times. A block
	// too large is AppendPacket's error.
	size, _ := VarsSize(vars)
	packet, err := AppendPacket(make([]byte, 0, HeaderSize+size), t.Modifier1, t.Modifier2, vars)
	if err != nil {
		return nil, err
	}
	addr := t.Addr
	if addr == "" {
		addr = req.URL.Host
	}
	x := gateway.Exchange{ResponseHeaderTimeout: t.ResponseHeaderTimeout}
	var resp *http.Response
	if t.KeepAlive {
		resp, err = x.RoundTripPool(t.pool(addr), req, packet)
	} else {
		c, derr := proxy.DialAddrOnce(req.Context(), addr, t.DialTimeout, t.Dial)
		if derr != nil {
			return nil, fmt.Errorf("uwsgi: dial %s: %w", addr, derr)
		}
		resp, err = x.RoundTrip(c, req, packet)
	}
	if errors.Is(err, gateway.ErrNoReply) && req.Context().Err() == nil {
		return nil, &EmptyReplyError{Addr: addr, Modifier1: t.Modifier1}
	}
	if err != nil {
		return nil, fmt.Errorf("uwsgi: backend %s: %w", addr, err)
	}
	return resp, nil
}

// SetMaxConns sets MaxConns and MaxIdleConns to n while the transport is
// in use (see gateway.Pool.SetMaxConns), for a backend whose concurrency
// changed: the wsgi app's preloading master, when it forks a child more
// or stops one.
func (t *Transport) SetMaxConns(n int) {
	t.pools.Update(func(all []*gateway.Pool) {
		t.MaxConns, t.MaxIdleConns = n, n // read by pool's newPool, under the same lock
		for _, p := range all {
			p.SetMaxConns(n)
		}
	})
}

// pool returns the kept connections to addr.
func (t *Transport) pool(addr string) *gateway.Pool {
	return t.pools.For(addr, func() *gateway.Pool {
		return &gateway.Pool{
			MaxIdle:     t.MaxIdleConns,
			MaxConns:    t.MaxConns,
			Pipeline:    t.Pipeline,
			IdleTimeout: t.IdleConnTimeout,
			// A worker closes a kept connection when it idles too
			// long or recycles: found before a request is written.
			Alive: gateway.PeekAlive,
			Dial: func(ctx context.Context) (net.Conn, error) {
				c, err := proxy.DialAddr(ctx, addr, t.DialTimeout, t.Dial)
				if err != nil {
					return nil, fmt.Errorf("dial %s: %w", addr, err)
				}
				return c, nil
			},
		}
	})
}

// CloseIdleConnections closes the kept connections waiting for a
// request (a backend about to stop should not find them open).
func (t *Transport) CloseIdleConnections() { t.pools.CloseIdle() }

// Close closes the kept connections, and those in use once their
// request ends; the Transport keeps none from then on. It implements
// io.Closer for the app that owns the Transport.
func (t *Transport) Close() error { return t.pools.Close() }

var (
	_ http.RoundTripper = (*Transport)(nil)
	_ io.Closer         = (*Transport)(nil)
)
