// Package limit bounds what clients may ask of an application: the size of
// a request body (413 Payload Too Large), the number of requests served at
// once (503 Service Unavailable with Retry-After) and the request rate of
// each client address, with a token bucket per client (429 Too Many
// Requests with Retry-After).
//
// The client address is the connection's peer, or, when that peer is one
// of the trusted proxies, the rightmost address in X-Forwarded-For that is
// not a trusted proxy. IPv6 clients are counted per /64 network, since one
// host usually has a whole /64. The table of clients holds at most
// MaxClients entries; when it is full the client seen least recently is
// dropped (and starts again with a full bucket when it comes back).
package limit

import (
	"container/list"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultMaxClients is the size of the client table when
// Options.MaxClients is zero.
const DefaultMaxClients = 10000

// Options configure the filter. The zero value limits nothing.
type Options struct {
	// MaxBodyBytes is the largest request body accepted; zero means no
	// limit. A declared Content-Length over it gets 413 before the next
	// handler runs; a longer chunked body fails the handler's read with
	// *http.MaxBytesError.
	MaxBodyBytes int64
	// MaxConcurrency is how many requests the next handler serves at
	// once; zero means no limit. Requests over it get 503 at once.
	MaxConcurrency int
	// RetryAfter is the Retry-After sent with 503; zero means 1s.
	RetryAfter time.Duration
	// Rate is the sustained requests per second allowed per client; zero
	// means no rate limit.
	Rate float64
	// Burst is how many requests a client may make at once after being
	// idle; zero means max(1, ceil(Rate)).
	Burst int
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MaxClients bounds the per-client table; zero means
	// DefaultMaxClients.
	MaxClients int
	// Clients, when set, is the per-client table to count in, made by
	// [NewClients] from the same Rate, Burst and MaxClients: filters given
	// one table share every client's bucket. The limit factory keeps one
	// across reloads this way. nil means a table of the filter's own.
	Clients *Clients
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns the filter. Each filter built by a call to New has its own
// concurrency count, and its own client table unless o.Clients is set.
func New(o Options) (func(http.Handler) http.Handler, error) {
	switch {
	case o.MaxBodyBytes < 0:
		return nil, errors.New("limit: negative max body bytes")
	case o.MaxConcurrency < 0:
		return nil, errors.New("limit: negative max concurrency")
	case o.RetryAfter < 0:
		return nil, errors.New("limit: negative retry after")
	case o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0):
		return nil, errors.New("limit: rate must be a positive number")
	case o.Burst < 0:
		return nil, errors.New("limit: negative burst")
	case o.MaxClients < 0:
		return nil, errors.New("limit: negative max clients")
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = time.Second
	}
	o = withDefaults(o)
	if o.Now == nil {
		o.Now = time.Now
	}
	retryAfter := strconv.Itoa(int(math.Ceil(o.RetryAfter.Seconds())))
	table := o.Clients
	if table == nil && o.Rate > 0 {
		table = NewClients(o)
	}
	var sem chan struct{}
	if o.MaxConcurrency > 0 {
		sem = make(chan struct{}, o.MaxConcurrency)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if table != nil {
				key := clientKey(ClientIP(r, o.TrustedProxies))
				if wait, ok := table.allow(key, o.Now()); !ok {
					w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
					http.Error(w, "429 Too Many Requests", http.StatusTooManyRequests)
					return
				}
			}
			if o.MaxBodyBytes > 0 {
				if r.ContentLength > o.MaxBodyBytes {
					w.Header().Set("Connection", "close")
					http.Error(w, "413 Request Entity Too Large", http.StatusRequestEntityTooLarge)
					return
				}
				if r.Body != nil && r.Body != http.NoBody {
					r2 := *r
					r2.Body = http.MaxBytesReader(w, r.Body, o.MaxBodyBytes)
					r = &r2
				}
			}
			if sem != nil {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				default:
					w.Header().Set("Retry-After", retryAfter)
					http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// ParseRate reads a rate as "N/s", "N/m" or "N/h" (N may have a
// fraction) and returns it in requests per second.
func ParseRate(s string) (float64, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("%q is not a rate (like 10/s or 100/m)", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a rate: want a positive number of requests", s)
	}
	switch strings.TrimSpace(unit) {
	case "s", "sec", "second":
		return f, nil
	case "m", "min", "minute":
		return f / 60, nil
	case "h", "hour":
		return f / 3600, nil
	}
	return 0, fmt.Errorf("%q is not a rate: unit must be s, m or h", s)
}

// ParsePrefix reads an address ("10.0.0.1", "::1") or a network
// ("10.0.0.0/8").
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or network", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or network", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the address of the client that made r: its peer, or,
// when the peer is a trusted proxy, the rightmost X-Forwarded-For address
// that is not. A peer without an IP address (a unix socket) counts as a
// trusted proxy when proxies is not empty. The zero Addr means unknown.
func ClientIP(r *http.Request, proxies []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	addr := peer.Addr().Unmap()
	if err != nil {
		addr, _ = netip.ParseAddr(r.RemoteAddr)
		addr = addr.Unmap()
	}
	if len(proxies) == 0 || (addr.IsValid() && !trusted(addr, proxies)) {
		return addr
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				// A hop we cannot read ends the chain we can trust.
				return addr
			}
			addr = hop.Unmap()
			if !trusted(addr, proxies) {
				return addr
			}
		}
	}
	return addr
}

// clientKey is the table key of a client: its IPv4 address or its IPv6 /64.
func clientKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// withDefaults fills in the Burst and MaxClients that zero stands for.
func withDefaults(o Options) Options {
	if o.Burst == 0 {
		o.Burst = max(1, int(math.Ceil(o.Rate)))
	}
	if o.MaxClients == 0 {
		o.MaxClients = DefaultMaxClients
	}
	return o
}

// Clients is a token bucket per client, in a table of bounded size that
// drops the least recently seen client when full. It is safe for
// concurrent use.
type Clients struct {
	rate, burst float64
	max         int

	mu    sync.Mutex
	byKey map[netip.Addr]*list.Element
	lru   list.List // of *bucket, most recently seen first
}

type bucket struct {
	key    netip.Addr
	tokens float64
	last   time.Time
}

// NewClients returns an empty table for o's Rate (> 0), Burst and
// MaxClients, zero meaning the same defaults as in [New].
func NewClients(o Options) *Clients {
	o = withDefaults(o)
	return &Clients{rate: o.Rate, burst: float64(o.Burst), max: o.MaxClients, byKey: make(map[netip.Addr]*list.Element)}
}

// allow takes a token from key's bucket. When there is none it returns
// how long until there is one.
func (c *Clients) allow(key netip.Addr, now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b *bucket
	if e, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(e)
		b = e.Value.(*bucket)
		if d := now.Sub(b.last); d > 0 {
			b.tokens = min(c.burst, b.tokens+d.Seconds()*c.rate)
		}
		b.last = now
	} else {
		if c.lru.Len() >= c.max {
			old := c.lru.Back()
			c.lru.Remove(old)
			delete(c.byKey, old.Value.(*bucket).key)
		}
		b = &bucket{key: key, tokens: c.burst, last: now}
		c.byKey[key] = c.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / c.rate * float64(time.Second)), false
}

func (c *Clients) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
