// Package proxyfix makes a request that came through trusted reverse
// proxies look as the client sent it: the client's address in
// r.RemoteAddr, the host it asked for in r.Host, and the scheme it used in
// r.URL.Scheme and [Scheme].
//
// The facts come from the Forwarded header (RFC 7239) when present, else
// from X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host. They are
// believed only when the request's peer is in TrustedProxies, and the
// address list is walked from the right, skipping trusted proxies: the
// first address that is not a trusted proxy is the client. Anything a
// client put further left is ignored.
package proxyfix

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Options configure the filter.
type Options struct {
	// TrustedProxies are the networks whose forwarding headers are
	// believed. At least one network, or TrustUnix, is required.
	TrustedProxies []netip.Prefix
	// TrustUnix believes peers that are not on IP: requests that came
	// over a unix socket (whose RemoteAddr is not an ip:port).
	TrustUnix bool
}

type schemeKey struct{}

// Scheme returns the scheme the client used for r: the one proxyfix found
// in trusted forwarding headers, else "https" for a TLS connection and
// "http" otherwise.
func Scheme(r *http.Request) string {
	if s, ok := r.Context().Value(schemeKey{}).(string); ok {
		return s
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// ParsePrefix reads a trusted network: a CIDR ("10.0.0.0/8") or a single
// address ("127.0.0.1", "::1").
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// New returns the filter.
func New(o Options) (func(http.Handler) http.Handler, error) {
	if len(o.TrustedProxies) == 0 && !o.TrustUnix {
		return nil, errors.New("proxyfix: no trusted proxies")
	}
	for _, p := range o.TrustedProxies {
		if !p.IsValid() {
			return nil, errors.New("proxyfix: invalid trusted proxy network")
		}
	}
	trusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range o.TrustedProxies {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, fix(r, trusted, o.TrustUnix))
		})
	}, nil
}

// fix returns r as its client sent it, or r itself when its peer is not
// trusted or it carries no usable forwarding headers.
func fix(r *http.Request, trusted func(netip.Addr) bool, unix bool) *http.Request {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	switch {
	case err != nil && !unix:
		return r
	case err == nil && !trusted(peer.Addr()):
		return r
	}
	var hops []hop
	if fw := r.Header.Values("Forwarded"); len(fw) > 0 {
		var ok bool
		if hops, ok = parseForwarded(fw); !ok {
			hops = nil
		}
	} else if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		hops = parseXForwarded(xff, r.Header.Values("X-Forwarded-Proto"), r.Header.Values("X-Forwarded-Host"))
	} else if xfp, xfh := r.Header.Values("X-Forwarded-Proto"), r.Header.Values("X-Forwarded-Host"); len(xfp) > 0 || len(xfh) > 0 {
		// No address list: the nearest proxy still says how it was
		// reached.
		hops = []hop{{proto: pick(splitList(xfp), 0, 1), host: pick(splitList(xfh), 0, 1)}}
		hops[0].proto = strings.ToLower(hops[0].proto)
	}
	if len(hops) == 0 {
		return r
	}
	// Walk from the nearest proxy outwards; the first hop whose address
	// is not a trusted proxy (or is no address at all) is the client.
	i := len(hops) - 1
	for ; i > 0; i-- {
		if !hops[i].addr.IsValid() || !trusted(hops[i].addr) {
			break
		}
	}
	h := hops[i]
	remote := r.RemoteAddr
	if h.addr.IsValid() {
		port := h.port
		if port == "" {
			port = "0"
		}
		remote = net.JoinHostPort(h.addr.String(), port)
	}
	host := r.Host
	if h.host != "" && validHost(h.host) {
		host = h.host
	}
	scheme := ""
	if h.proto == "http" || h.proto == "https" {
		scheme = h.proto
	}
	if remote == r.RemoteAddr && host == r.Host && scheme == "" {
		return r
	}
	ctx := r.Context()
	if scheme != "" {
		ctx = context.WithValue(ctx, schemeKey{}, scheme)
	}
	r2 := r.WithContext(ctx)
	r2.RemoteAddr, r2.Host = remote, host
	if scheme != "" {
		u := *r.URL
		u.Scheme = scheme
		r2.URL = &u
	}
	return r2
}
