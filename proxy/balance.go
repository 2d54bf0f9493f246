package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Backend is one address requests are sent to.
type Backend struct {
	// Addr is as configured: "host:port" or "unix:/path".
	Addr string
	// Network ("tcp" or "unix") and Address (for net.Dial) are Addr split.
	Network, Address string
}

func (b Backend) String() string { return b.Addr }

// ParseBackend reads "host:port", "unix:/path", or (for HTTP backends)
// "http://host:port".
func ParseBackend(s string) (Backend, error) {
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		if p == "" {
			return Backend{}, fmt.Errorf("backend %q: empty socket path", s)
		}
		return Backend{Addr: s, Network: "unix", Address: p}, nil
	}
	hp := strings.TrimSuffix(strings.TrimPrefix(s, "http://"), "/")
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return Backend{}, fmt.Errorf("backend %q is not host:port or unix:/path", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return Backend{}, fmt.Errorf("backend %q: bad port", s)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return Backend{Addr: s, Network: "tcp", Address: net.JoinHostPort(host, port)}, nil
}

// DialFunc opens a connection, as net.Dialer's DialContext does.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Dial connects to b within timeout (zero means 10 seconds) through dial,
// or a net.Dialer when dial is nil, for a connection that may carry more
// than one request: the http_proxy transport and the FastCGI Transport
// keep theirs, with Go's TCP keep-alive probes. A Unix socket is dialled
// without the timeout: its connect never waits. A refused connection
// gives a *net.OpError whose Op is "dial". Every client of a backend
// dials here or in [Backend.DialOnce].
func (b Backend) Dial(ctx context.Context, timeout time.Duration, dial DialFunc) (net.Conn, error) {
	return b.dial(ctx, timeout, dial, &keptDialer)
}

// DialOnce is Dial for a connection that carries one request and its
// reply (SCGI, uwsgi): no TCP keep-alive probes, which such a connection
// never lives long enough to send and which cost net.Dialer four
// setsockopt calls per connection.
func (b Backend) DialOnce(ctx context.Context, timeout time.Duration, dial DialFunc) (net.Conn, error) {
	return b.dial(ctx, timeout, dial, &onceDialer)
}

var (
	keptDialer net.Dialer
	onceDialer = net.Dialer{KeepAlive: -1}
)

func (b Backend) dial(ctx context.Context, timeout time.Duration, dial DialFunc, d *net.Dialer) (net.Conn, error) {
	if dial == nil && b.Network == "unix" {
		// connect(2) on a Unix socket never waits: it succeeds, or fails
		// at once (a full backlog is EAGAIN). The timeout would only cost
		// a timer and a context per connection; DialUnix spares the
		// address resolution DialContext does.
		c, err := d.DialUnix(ctx, "unix", nil, &net.UnixAddr{Name: b.Address, Net: "unix"})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if dial == nil {
		dial = d.DialContext
	}
	return dial(ctx, b.Network, b.Address)
}

// DialAddr dials addr ("host:port" or "unix:/path", as ParseBackend
// reads it) as Backend.Dial does; DialAddrOnce as Backend.DialOnce does.
// The SCGI, uwsgi and FastCGI Transports connect through them.
func DialAddr(ctx context.Context, addr string, timeout time.Duration, dial DialFunc) (net.Conn, error) {
	b, err := ParseBackend(addr)
	if err != nil {
		return nil, err
	}
	return b.Dial(ctx, timeout, dial)
}

// DialAddrOnce dials addr for one request: see Backend.DialOnce.
func DialAddrOnce(ctx context.Context, addr string, timeout time.Duration, dial DialFunc) (net.Conn, error) {
	b, err := ParseBackend(addr)
	if err != nil {
		return nil, err
	}
	return b.DialOnce(ctx, timeout, dial)
}

type backend struct {
	Backend
	rt       http.RoundTripper
	inflight atomic.Int64

	// healthy and downUntil (Unix nanoseconds) are read on every
	// request without a lock; mu orders the changes to them and fails.
	healthy   atomic.Bool
	downUntil atomic.Int64
	mu        sync.Mutex
	fails     int
	// downSince is when b last went down; failed counts the requests
	// that failed on it since, logged when it comes back.
	downSince time.Time
	failed    atomic.Int64
}

// up reports whether b takes requests: healthy, or (with passive checks
// only) ejected long enough ago to try again. now is read only when b is
// not healthy.
func (b *backend) up(now func() int64, active bool) bool {
	return b.healthy.Load() || (!active && now() > b.downUntil.Load())
}

// balancer is round_robin (leastConn false) or least_conn.
type balancer struct {
	leastConn bool
	next      atomic.Uint64
}

// choose returns an index into cands (never empty).
func (bal *balancer) choose(cands []*backend) int {
	if !bal.leastConn {
		return int((bal.next.Add(1) - 1) % uint64(len(cands)))
	}
	best := 0
	for i, b := range cands {
		if b.inflight.Load() < cands[best].inflight.Load() {
			best = i
		}
	}
	return best
}

// pick chooses a backend not in tried that is up; when none is up, any
// not tried; when all were tried, any. With every backend up and none
// tried yet (the usual case) it allocates nothing and reads no clock.
func (p *Proxy) pick(tried []*backend) *backend {
	active := p.opts.HealthCheckInterval > 0
	var nowNanos int64
	now := func() int64 {
		if nowNanos == 0 {
			nowNanos = time.Now().UnixNano()
		}
		return nowNanos
	}
	if len(tried) == 0 {
		all := true
		for _, b := range p.backends {
			if !b.up(now, active) {
				all = false
				break
			}
		}
		if all {
			return p.backends[p.bal.choose(p.backends)]
		}
	}
	var upBuf, freshBuf [8]*backend
	up, fresh := upBuf[:0], freshBuf[:0]
	for _, b := range p.backends {
		if contains(tried, b) {
			continue
		}
		fresh = append(fresh, b)
		if b.up(now, active) {
			up = append(up, b)
		}
	}
	cands := up
	if len(cands) == 0 {
		cands = fresh
	}
	if len(cands) == 0 {
		cands = p.backends
	}
	return cands[p.bal.choose(cands)]
}

func contains(bs []*backend, b *backend) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// markDown ejects b after a refused connection or a failed check. Only
// the change from up to down is logged, with the reason (the system's
// words, "connection refused", when there are some): the requests that
// fail while b is down are counted, not logged one by one.
func (p *Proxy) markDown(b *backend, err error) {
	now := time.Now()
	b.mu.Lock()
	was := b.healthy.Load()
	b.healthy.Store(false)
	b.downUntil.Store(now.Add(p.opts.FailTimeout).UnixNano())
	if was {
		b.downSince = now
	}
	b.mu.Unlock()
	if was {
		p.logger.Warn("backend down", "backend", b.Addr, "reason", reason(err), "err", err)
	}
}

// markUp brings b back, logging the change from down to up with how long
// b was down and how many requests failed on it meanwhile.
func (p *Proxy) markUp(b *backend) {
	b.mu.Lock()
	was := b.healthy.Load()
	b.healthy.Store(true)
	b.fails = 0
	since := b.downSince
	b.mu.Unlock()
	if !was {
		p.logger.Info("backend up", "backend", b.Addr, "down_for", time.Since(since).Round(time.Millisecond),
			"failed_requests", b.failed.Swap(0))
	}
}

// reason names why a backend failed in a few words: the system error
// ("connection refused", "connection reset by peer") when there is one,
// "timeout", else the error itself.
func reason(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case Status(err) == http.StatusGatewayTimeout:
		return "timeout"
	}
	return err.Error()
}

// checkLoop runs the active checks until Close.
func (p *Proxy) checkLoop() {
	defer p.wg.Done()
	t := time.NewTicker(p.opts.HealthCheckInterval)
	defer t.Stop()
	p.checkAll()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.checkAll()
		}
	}
}

func (p *Proxy) checkAll() {
	var wg sync.WaitGroup
	for _, b := range p.backends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.check(b); err != nil {
				b.mu.Lock()
				b.fails++
				b.mu.Unlock()
				p.markDown(b, err)
			} else {
				p.markUp(b)
			}
		}()
	}
	wg.Wait()
}

// check sends one GET of the health check path to b.
func (p *Proxy) check(b *backend) error {
	timeout := min(p.opts.HealthCheckInterval, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	host := b.Address
	if b.Network == "unix" {
		host = "localhost"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+p.opts.HealthCheckPath, nil)
	if err != nil {
		return err
	}
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("User-Agent", "gopaste-health-check")
	res, err := b.rt.RoundTrip(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // drain a little so a pooled connection can be reused
	res.Body.Close()
	if res.StatusCode >= 500 {
		return fmt.Errorf("health check %s: status %d", p.opts.HealthCheckPath, res.StatusCode)
	}
	return nil
}
