package limit

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10/s", "1.5/m", "3600/h", "x", "/", "1e308/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err == nil && !(r > 0) {
			t.Fatalf("ParseRate(%q) = %v without error", s, r)
		}
	})
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "1.2.3.4, 10.0.0.2")
	f.Add("@", "junk")
	f.Add("[::1]:1", "::ffff:1.2.3.4,,")
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		a := ClientIP(r, proxies)
		if a.Is4In6() {
			t.Fatalf("ClientIP = %v, want unmapped", a)
		}
		if b := ClientIP(r, nil); b.IsValid() && a != b && !trusted(b, proxies) {
			t.Fatalf("untrusted peer %v let XFF choose %v", b, a)
		}
	})
}
