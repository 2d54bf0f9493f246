package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
)

// Options configure a Proxy. Only Backends and NewTransport are required.
type Options struct {
	// Backends are tried in turn; at least one.
	Backends []Backend
	// NewTransport returns the RoundTripper that reaches b; it is called
	// once per backend by New. The request it gets carries the client's
	// URL (path and query) and Host; a transport of a gateway protocol
	// maps it with cgivars.FromRequest.
	NewTransport func(b Backend) http.RoundTripper
	// Rewrite, when set, adjusts each outgoing request (see
	// httputil.ReverseProxy.Rewrite); the http_proxy app sets the
	// X-Forwarded-* headers here. Nil keeps the request as it came, with
	// the client's X-Forwarded-For kept for the transport to extend; with
	// RequireLength too (the gateway protocols' proxies), requests are
	// served without httputil.ReverseProxy (see the package doc).
	Rewrite func(*httputil.ProxyRequest)
	// HTTP makes the proxy http_proxy: the backends are HTTP servers
	// (NewTransport returns NewHTTPTransport's transports, or any
	// http.RoundTripper), and every request gets the headers HTTPRewrite
	// sets. Requests that need nothing of httputil.ReverseProxy are
	// served without it, the others through it with HTTPRewrite (see
	// the package doc). Rewrite and RequireLength must be unset.
	HTTP bool
	// Balance is "round_robin" (default) or "least_conn".
	Balance string
	// HealthCheckInterval, when positive, sends GET HealthCheckPath to every
	// backend on that period; a backend is up when it answers below 500.
	// Zero means passive checks only: a refused backend is ejected for
	// FailTimeout.
	HealthCheckInterval time.Duration
	// HealthCheckPath is the path the active checks get; default "/".
	HealthCheckPath string
	// FailTimeout is how long a backend that refused a connection stays
	// out without active checks; default 10s.
	FailTimeout time.Duration
	// Retries is how many other backends an idempotent request may be
	// tried on when nothing was sent to the first. Default 0.
	Retries int
	// RequireLength says the protocol needs a CONTENT_LENGTH (SCGI, uwsgi,
	// CGI...): a body of unknown length is spooled, or refused with 411.
	RequireLength bool
	// MaxBodySpool is the largest body of unknown length spooled to a temp
	// file (in SpoolDir, default os.TempDir()) when RequireLength is set;
	// larger ones get 413. Zero turns spooling off (411 for such bodies).
	MaxBodySpool int64
	SpoolDir     string
	// ConnectTimeout, ResponseHeaderTimeout and MaxIdleConns are not used
	// by the proxy itself: they are read from ini by ReadOptions for
	// NewTransport to pass on to its transport.
	ConnectTimeout        time.Duration
	ResponseHeaderTimeout time.Duration
	MaxIdleConns          int
	// Timeout bounds a whole request, body streaming included; zero means
	// no limit.
	Timeout time.Duration
	// ScriptName overrides the SCRIPT_NAME sent and ServerName pins
	// SERVER_NAME ("name" or "name:port"; see cgivars.Options); read from
	// ini for NewTransport to use through Vars.
	ScriptName string
	ServerName string
	// FlushInterval is ReverseProxy's. Zero (the default) flushes a
	// streamed reply (no Content-Length, or text/event-stream) after
	// every write and a reply of known length when the response buffer
	// fills; -1 flushes after every write whatever the reply, at a
	// syscall per write. A positive interval (timed flushes) always
	// serves through httputil.ReverseProxy.
	FlushInterval time.Duration
	// Logger receives errors and health changes; nil means slog.Default().
	Logger *slog.Logger
}

// Vars returns the cgivars options a gateway protocol's transport maps
// requests with: ScriptName and ServerName.
func (o Options) Vars() cgivars.Options {
	return cgivars.Options{ScriptName: o.ScriptName, ServerName: o.ServerName}
}

// Proxy is the gateway handler. It is safe for concurrent use. Close
// stops the health checks and closes idle backend connections.
type Proxy struct {
	opts     Options
	rp       *httputil.ReverseProxy // nil when opts.direct()
	backends []*backend
	logger   *slog.Logger
	bal      balancer
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

// New validates opts and returns a Proxy; with HealthCheckInterval set it
// starts the checks, which stop on Close.
func New(opts Options) (*Proxy, error) {
	if len(opts.Backends) == 0 {
		return nil, errors.New("proxy: no backends")
	}
	if opts.NewTransport == nil {
		return nil, errors.New("proxy: no transport")
	}
	if opts.Retries < 0 || opts.MaxBodySpool < 0 {
		return nil, errors.New("proxy: negative retries or max_body_spool")
	}
	if opts.HTTP && (opts.Rewrite != nil || opts.RequireLength) {
		return nil, errors.New("proxy: HTTP with a Rewrite or RequireLength")
	}
	if opts.HealthCheckPath == "" {
		opts.HealthCheckPath = "/"
	}
	if !strings.HasPrefix(opts.HealthCheckPath, "/") {
		return nil, fmt.Errorf("proxy: health check path %q does not start with /", opts.HealthCheckPath)
	}
	if opts.FailTimeout <= 0 {
		opts.FailTimeout = 10 * time.Second
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	p := &Proxy{opts: opts, logger: logger, stop: make(chan struct{})}
	switch opts.Balance {
	case "", "round_robin":
	case "least_conn":
		p.bal.leastConn = true
	default:
		return nil, fmt.Errorf("proxy: unknown balance %q (round_robin, least_conn)", opts.Balance)
	}
	for _, b := range opts.Backends {
		rt := opts.NewTransport(b)
		if rt == nil {
			return nil, fmt.Errorf("proxy: no transport for backend %s", b)
		}
		be := &backend{Backend: b, rt: rt}
		be.healthy.Store(true)
		p.backends = append(p.backends, be)
	}
	rewrite := opts.Rewrite
	if opts.HTTP {
		rewrite = HTTPRewrite
	} else if rewrite == nil {
		rewrite = func(pr *httputil.ProxyRequest) {
			// Keep the chain of earlier hops; the transport adds ours.
			if xff := pr.In.Header["X-Forwarded-For"]; len(xff) > 0 {
				pr.Out.Header["X-Forwarded-For"] = xff
			}
		}
	}
	if !opts.direct() {
		p.rp = &httputil.ReverseProxy{
			Rewrite:       rewrite,
			Transport:     (*attempts)(p),
			BufferPool:    copyBuffers{},
			FlushInterval: opts.FlushInterval,
			ErrorHandler:  p.errorHandler,
			ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
	}
	if opts.HealthCheckInterval > 0 {
		p.wg.Add(1)
		go p.checkLoop()
	}
	return p, nil
}

// Close stops the health checks and closes idle connections (and, for
// NewHTTPTransport's, those in use once their reply ends). The proxy
// still serves afterwards, without active checks.
func (p *Proxy) Close() error {
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
	for _, b := range p.backends {
		if h, ok := b.rt.(*httpTransport); ok {
			// Connections still in use are closed when their reply ends,
			// not kept for a proxy nobody calls any more.
			h.pool.Close()
		}
		if c, ok := b.rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
	return nil
}

// copyBuffers lends ReverseProxy the 32 KiB buffers it copies response
// bodies through; without a pool it allocates one per request.
type copyBuffers struct{}

var bufPool = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (copyBuffers) Get() []byte { return bufPool.Get().(*[32 << 10]byte)[:] }

func (copyBuffers) Put(b []byte) {
	if cap(b) == 32<<10 {
		bufPool.Put((*[32 << 10]byte)(b[:32<<10]))
	}
}

// backendError is a failed round trip and the backend it went to, for the
// error log. down says the backend could not be reached: the failure is
// counted, and logged once with the backend's state change.
type backendError struct {
	backend *backend
	err     error
	down    bool
}

func (e *backendError) Error() string { return e.err.Error() }
func (e *backendError) Unwrap() error { return e.err }

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.opts.RequireLength && r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		if p.opts.MaxBodySpool == 0 {
			http.Error(w, "411 Length Required", http.StatusLengthRequired)
			return
		}
		sp, status, err := spool(r.Body, p.opts.MaxBodySpool, p.opts.SpoolDir)
		if err != nil {
			p.logger.Warn("request body not spooled", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
			http.Error(w, fmt.Sprintf("%d %s", status, http.StatusText(status)), status)
			return
		}
		defer sp.Close()
		r2 := r.Clone(r.Context())
		r2.Body, r2.ContentLength = sp, sp.size
		if sp.size == 0 {
			r2.Body = http.NoBody
		}
		r2.TransferEncoding = nil
		r = r2
	}
	// A client that half-closes its connection after sending the request
	// (shutdown(SHUT_WR), as HTTP/1.0 tools and some load balancers do)
	// cancels the request's context in net/http, yet still reads the
	// reply: the backend request is not tied to that cancellation, as
	// HAProxy's default (no abortonclose). A client that is really gone
	// ends it at the first write of the reply that fails, or Timeout.
	// Through ReverseProxy the context must have a Done channel:
	// ReverseProxy watches the ResponseWriter's CloseNotify, which fires
	// on the half-close too, when it has none. The direct path needs none
	// without a Timeout (nothing else cancels it before it returns), and
	// saves the transport registering its watch on one.
	direct := p.opts.direct() || p.opts.HTTP && p.opts.FlushInterval <= 0 && plainHTTP(r)
	var it *interim
	ctx := r.Context()
	if direct && p.opts.HTTP {
		// An HTTP backend's 1xx heads (103 Early Hints) reach the
		// client, as through ReverseProxy. The trace goes under
		// WithoutCancel: WithClientTrace looks up a trace already
		// there, and a Value asked of WithoutCancel's context itself
		// costs an allocation.
		it = newInterim(w)
		ctx = httptrace.WithClientTrace(ctx, &it.trace)
	}
	ctx = context.WithoutCancel(ctx)
	if !direct {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
	}
	if p.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.opts.Timeout)
		defer cancel()
	}
	if !direct {
		p.rp.ServeHTTP(w, r.WithContext(ctx))
		return
	}
	p.serveDirect(ctx, w, r, it)
}

// Status returns the HTTP status a proxy error maps to: for the client's
// body failing (gateway.ErrRequestBody) 413 over a size limit, 408 on a
// timeout, else 400; 504 for timeouts, 411 and 400 for requests the
// protocol cannot carry, 502 otherwise.
func Status(err error) int {
	var ne net.Error
	switch {
	case errors.Is(err, gateway.ErrRequestBody):
		// The client's body, not the backend, failed: too large for a
		// limit in front (413), too slow (408), broken or cut short (400).
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return http.StatusRequestEntityTooLarge
		}
		if errors.As(err, &ne) && ne.Timeout() {
			return http.StatusRequestTimeout
		}
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout
	case errors.Is(err, cgivars.ErrLengthRequired):
		return http.StatusLengthRequired
	case errors.Is(err, cgivars.ErrInvalidByte):
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	status := Status(err)
	backend := ""
	if be, ok := errors.AsType[*backendError](err); ok {
		backend = be.backend.Addr
		if be.down {
			// Logged once as "backend down"; counted for "backend up".
			be.backend.failed.Add(1)
			p.logger.Debug("proxy error", "method", r.Method, "path", r.URL.Path, "backend", backend, "status", status, "err", err)
			http.Error(w, fmt.Sprintf("%d %s", status, http.StatusText(status)), status)
			return
		}
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		p.logger.Debug("client went away", "method", r.Method, "path", r.URL.Path, "backend", backend)
		w.WriteHeader(499) // nobody reads it; the access log sees why
		return
	}
	level := slog.LevelWarn
	if errors.Is(err, gateway.ErrRequestBody) {
		level = slog.LevelInfo // the client's fault
	}
	p.logger.Log(r.Context(), level, "proxy error", "method", r.Method, "path", r.URL.Path, "backend", backend, "status", status, "err", err)
	http.Error(w, fmt.Sprintf("%d %s", status, http.StatusText(status)), status)
}

// attempts is the RoundTripper ReverseProxy calls: it picks a backend,
// and retries on another when that is safe.
type attempts Proxy

func (a *attempts) RoundTrip(req *http.Request) (*http.Response, error) {
	p := (*Proxy)(a)
	var body *countingBody
	if req.Body != nil {
		body = &countingBody{r: req.Body}
	}
	var triedBuf [4]*backend
	tried := triedBuf[:0]
	for try := 0; ; try++ {
		b := p.pick(tried)
		tried = append(tried, b)
		out := req
		if body != nil {
			// A copy per try, for the transport to close the body of
			// (countingBody ignores it); RoundTrippers change nothing else.
			o := *req
			o.Body = body
			out = &o
		}
		b.inflight.Add(1)
		res, err := b.rt.RoundTrip(out)
		if err != nil {
			b.inflight.Add(-1)
			if berr := body.readErr(); berr != nil {
				// The client's body broke the exchange off: nothing to
				// say about the backend, nothing to retry.
				return nil, &backendError{backend: b, err: gateway.RequestBodyError(berr)}
			}
			// A connection error: the backend broke the exchange off (a
			// reset, an empty reply), as opposed to a timeout, a request
			// the protocol cannot carry or a reply it sent wrong.
			connErr := Status(err) == http.StatusBadGateway && !errors.Is(err, gateway.ErrBadReply) &&
				req.Context().Err() == nil
			down := isDialError(err)
			if down {
				p.markDown(b, err)
			} else if connErr {
				down = p.unreachable(b)
			}
			// Nothing reached a refused backend, whatever the method; an
			// idempotent request whose connection broke before the reply
			// (the backend died under it) is safe to send again, as
			// nginx's proxy_next_upstream error does. Either way no byte
			// of the client's body may have been read.
			again := isDialError(err) || connErr && Idempotent(req.Method)
			if again && req.Context().Err() == nil && try < p.opts.Retries && (body == nil || body.n.Load() == 0) &&
				len(tried) < len(p.backends) {
				p.logger.Debug("retrying on another backend", "backend", b.Addr, "err", err)
				continue
			}
			return nil, &backendError{backend: b, err: err, down: down}
		}
		if !b.healthy.Load() && p.opts.HealthCheckInterval <= 0 {
			p.markUp(b) // passive checks: a reply is the backend back
		}
		if res.StatusCode == http.StatusSwitchingProtocols {
			// ReverseProxy needs the raw body to splice an upgraded
			// connection; it no longer counts as a request in flight.
			b.inflight.Add(-1)
			return res, nil
		}
		res.Body = &doneBody{ReadCloser: res.Body, b: b}
		return res, nil
	}
}

// unreachable reports whether b refuses a new connection after a request
// to it failed with a connection error (a reset, an empty reply): then
// the backend is down, not confused, and is marked so with the real
// reason (connection refused) rather than the protocol's guess.
func (p *Proxy) unreachable(b *backend) bool {
	if b.Network == "" {
		return false
	}
	timeout := time.Second
	if t := p.opts.ConnectTimeout; t > 0 && t < timeout {
		timeout = t
	}
	c, err := b.DialOnce(context.Background(), timeout, nil)
	if err == nil {
		c.Close()
		return false
	}
	if !isDialError(err) {
		return false
	}
	p.markDown(b, err)
	return true
}

// isDialError reports whether err happened while connecting, so the
// backend got nothing.
func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// Idempotent reports whether a request of this method may be sent again
// after a failure (RFC 9110 §9.2.2): the proxy's and the process app's
// retry rule.
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// countingBody passes reads through, counts them, keeps the first read
// error other than io.EOF, and ignores Close so a body no byte was read
// from can go to the next backend.
type countingBody struct {
	r   io.ReadCloser
	n   atomic.Int64
	err atomic.Pointer[error]
}

func (c *countingBody) Read(b []byte) (int, error) {
	if c.r == nil {
		return 0, io.EOF
	}
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	if err != nil && err != io.EOF {
		c.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// readErr returns the error reading the client's body, if any; c may be
// nil (no body).
func (c *countingBody) readErr() error {
	if c == nil {
		return nil
	}
	if p := c.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (c *countingBody) Close() error { return nil }

// doneBody ends b's request in flight once, when the response body is
// closed.
type doneBody struct {
	io.ReadCloser
	b      *backend
	closed atomic.Bool
}

func (d *doneBody) Close() error {
	err := d.ReadCloser.Close()
	if d.closed.CompareAndSwap(false, true) {
		d.b.inflight.Add(-1)
	}
	return err
}

var _ http.Handler = (*Proxy)(nil)
var _ http.RoundTripper = (*attempts)(nil)
