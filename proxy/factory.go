package proxy

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("http_proxy", httpProxyFactory,
		"reverse proxy to HTTP backends (balancing, health checks, X-Forwarded-*)")
}

// ReadOptions reads the keys every proxy app shares: backends (required:
// host:port or unix:/path, space separated), balance, max_idle_conns,
// connect_timeout, response_header_timeout, timeout,
// health_check_interval, health_check_path, retries, max_body_spool,
// script_name and server_name. Errors are recorded in c. The caller sets NewTransport (and
// RequireLength for CGI-style protocols) and calls New.
func ReadOptions(c *registry.Config) Options {
	o := Options{Logger: c.Logger}
	for _, s := range c.List("backends") {
		b, err := ParseBackend(s)
		if err != nil {
			c.Errorf("backends", "%v", err)
			continue
		}
		o.Backends = append(o.Backends, b)
	}
	if len(o.Backends) == 0 && c.Err() == nil {
		c.Errorf("backends", "is required (host:port or unix:/path, space separated)")
	}
	o.Balance = c.OneOf("balance", "round_robin", "round_robin", "least_conn")
	o.MaxIdleConns = c.Int("max_idle_conns", 0)
	o.ConnectTimeout = c.Duration("connect_timeout", 10*time.Second)
	o.ResponseHeaderTimeout = c.Duration("response_header_timeout", 0)
	o.Timeout = c.Duration("timeout", 0)
	o.HealthCheckInterval = c.Duration("health_check_interval", 0)
	o.HealthCheckPath = c.String("health_check_path", "/")
	if o.HealthCheckPath == "" || o.HealthCheckPath[0] != '/' {
		c.Errorf("health_check_path", "%q does not start with /", o.HealthCheckPath)
	}
	o.Retries = c.Int("retries", 0)
	o.MaxBodySpool = c.Size("max_body_spool", 10<<20)
	o.ScriptName = c.String("script_name", "")
	if o.ScriptName != "" && o.ScriptName[0] != '/' {
		c.Errorf("script_name", "%q does not start with /", o.ScriptName)
	}
	o.ServerName = c.String("server_name", "")
	if o.ServerName != "" && !cgivars.ValidServerName(o.ServerName) {
		c.Errorf("server_name", "%q is not a host name or host:port", o.ServerName)
	}
	if o.MaxIdleConns < 0 {
		c.Errorf("max_idle_conns", "must not be negative")
	}
	if o.Retries < 0 {
		c.Errorf("retries", "must not be negative")
	}
	return o
}

// NewHTTPTransport returns the transport http_proxy uses for b, which
// sends each request to b (TCP or unix socket) whatever its URL's host,
// with o's connect and response header timeouts and up to
// o.MaxIdleConns idle connections (default 64). A request it can write
// exactly as net/http's Transport would goes over its own pool of kept
// connections, written and read on the caller's goroutine (gopaste's
// HTTP/1.1 client, httpclient.go); any other (an upgrade, a body of
// unknown length, Expect: 100-continue...) goes through an
// http.Transport.
func NewHTTPTransport(b Backend, o Options) http.RoundTripper {
	idle := o.MaxIdleConns
	if idle == 0 {
		idle = 64
	}
	t := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return b.Dial(ctx, o.ConnectTimeout, nil)
		},
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		// Pass the client's Accept-Encoding and the backend's encoding
		// through as they are, instead of asking for gzip and unpacking it.
		DisableCompression: true,
	}
	host := b.Address
	if b.Network == "unix" {
		host = "localhost"
	}
	return newHTTPTransport(b, o, idle, &hostTransport{t: t, host: host})
}

// hostTransport points each request at its backend.
type hostTransport struct {
	t    *http.Transport
	host string
}

// hostRequest is the copy of a request hostTransport sends: the request
// and its URL in one allocation.
type hostRequest struct {
	req http.Request
	url url.URL
}

func (h *hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := &hostRequest{req: *req, url: *req.URL}
	out.url.Scheme, out.url.Host = "http", h.host
	out.req.URL = &out.url
	out.req.RequestURI = ""
	return h.t.RoundTrip(&out.req)
}

func (h *hostTransport) CloseIdleConnections() { h.t.CloseIdleConnections() }

// HTTPRewrite sets the X-Forwarded-For (the client's chain plus this
// hop), -Host, -Proto and -Prefix (the mount point; a client's own is
// dropped) headers, keeps the client's Host header and drops the headers
// no backend gets (cgivars.Forbidden: Proxy and names with an
// underscore), as the gateway proxies do.
// It is the Rewrite of http_proxy's requests that take
// httputil.ReverseProxy; the others get the same headers from the same
// function (forwardHeader).
func HTTPRewrite(pr *httputil.ProxyRequest) {
	forwardHeader(pr.In, pr.Out.Header)
}

func httpProxyFactory(c *registry.Config) (http.Handler, error) {
	o := ReadOptions(c)
	if err := c.Err(); err != nil {
		return nil, err
	}
	if o.ServerName != "" {
		return nil, c.Errorf("server_name", "is for the gateway proxies (SERVER_NAME); http_proxy sends the client's Host")
	}
	o.HTTP = true
	o.NewTransport = func(b Backend) http.RoundTripper { return NewHTTPTransport(b, o) }
	p, err := New(o)
	if err != nil {
		return nil, c.Errorf("", "%v", err)
	}
	c.OnClose(p)
	return p, nil
}
