package proxyfix

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// FuzzForwarded checks that no Forwarded or X-Forwarded-For value panics
// the parser, that a parsed list stays bounded, and that the request a
// trusted proxy forwards gets a parseable RemoteAddr and a sane scheme.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{`for=192.0.2.1`, `for="[2001:db8::1]:80";proto=https, for=10.0.0.1`, `for="x`, `;;,,=`, `for=unknown;host="a\"b"`} {
		f.Add(s, "192.0.2.9, 10.0.0.1")
	}
	mw, _ := New(Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	f.Fuzz(func(t *testing.T, fwd, xff string) {
		if hops, ok := parseForwarded([]string{fwd}); ok && len(hops) > maxHops {
			t.Fatalf("%d hops", len(hops))
		}
		for _, hdr := range []string{"Forwarded", "X-Forwarded-For"} {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = "10.0.0.2:1"
			if hdr == "Forwarded" {
				req.Header["Forwarded"] = []string{fwd}
			} else {
				req.Header["X-Forwarded-For"] = []string{xff}
				req.Header["X-Forwarded-Proto"] = []string{fwd}
			}
			mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := netip.ParseAddrPort(r.RemoteAddr); err != nil {
					t.Fatalf("RemoteAddr %q: %v", r.RemoteAddr, err)
				}
				if s := Scheme(r); s != "http" && s != "https" {
					t.Fatalf("scheme %q", s)
				}
				if !validHost(r.Host) {
					t.Fatalf("host %q", r.Host)
				}
			})).ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}
