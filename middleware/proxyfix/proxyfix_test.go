package proxyfix

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gopaste/gopaste/registry/registrytest"
)

func TestFix(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name       string
		remote     string
		tls        bool
		header     map[string][]string
		unix       bool
		wantRemote string
		wantHost   string // "" means unchanged (example.com)
		wantScheme string
	}{
		{name: "untrusted peer ignored", remote: "203.0.113.9:4000",
			header:     map[string][]string{"X-Forwarded-For": {"1.2.3.4"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil"}},
			wantRemote: "203.0.113.9:4000", wantScheme: "http"},
		{name: "xff one hop", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.7"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"www.example.org"}},
			wantRemote: "198.51.100.7:0", wantHost: "www.example.org", wantScheme: "https"},
		{name: "xff spoofed left part ignored", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"6.6.6.6, 198.51.100.7, 10.1.1.1"}},
			wantRemote: "198.51.100.7:0", wantScheme: "http"},
		{name: "xff all trusted takes leftmost", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"10.9.9.9", "10.1.1.1"}},
			wantRemote: "10.9.9.9:0", wantScheme: "http"},
		{name: "xff proto by position", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.7, 10.1.1.1"}, "X-Forwarded-Proto": {"https, http"}},
			wantRemote: "198.51.100.7:0", wantScheme: "https"},
		{name: "xff proto single value", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.7, 10.1.1.1"}, "X-Forwarded-Proto": {"HTTPS"}},
			wantRemote: "198.51.100.7:0", wantScheme: "https"},
		{name: "bad proto ignored", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.7"}, "X-Forwarded-Proto": {"gopher"}},
			wantRemote: "198.51.100.7:0", wantScheme: "http"},
		{name: "bad host ignored", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.7"}, "X-Forwarded-Host": {"a b/c"}},
			wantRemote: "198.51.100.7:0", wantScheme: "http"},
		{name: "xff with port and garbage", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"not-an-ip, 198.51.100.7:555"}},
			wantRemote: "198.51.100.7:555", wantScheme: "http"},
		{name: "xff garbage stops the walk", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.7, junk"}},
			wantRemote: "10.0.0.2:4000", wantScheme: "http"},
		{name: "proto without xff", remote: "10.0.0.2:4000",
			header:     map[string][]string{"X-Forwarded-Proto": {"https"}},
			wantRemote: "10.0.0.2:4000", wantScheme: "https"},
		{name: "forwarded", remote: "[::1]:4000",
			header:     map[string][]string{"Forwarded": {`for=198.51.100.7;proto=https;host=shop.example, for="[2001:db8::5]:81";proto=http`}},
			wantRemote: "[2001:db8::5]:81", wantScheme: "http"},
		{name: "forwarded walks trusted", remote: "10.0.0.2:4000",
			header:     map[string][]string{"Forwarded": {`for=6.6.6.6;proto=http, for=198.51.100.7;proto=https;host=shop.example`, `for=10.3.3.3`}},
			wantRemote: "198.51.100.7:0", wantHost: "shop.example", wantScheme: "https"},
		{name: "forwarded preferred over xff", remote: "10.0.0.2:4000",
			header:     map[string][]string{"Forwarded": {`for=198.51.100.7`}, "X-Forwarded-For": {"1.1.1.1"}},
			wantRemote: "198.51.100.7:0", wantScheme: "http"},
		{name: "forwarded syntax error ignored", remote: "10.0.0.2:4000",
			header:     map[string][]string{"Forwarded": {`for="198.51.100.7`}},
			wantRemote: "10.0.0.2:4000", wantScheme: "http"},
		{name: "forwarded unknown node", remote: "10.0.0.2:4000",
			header:     map[string][]string{"Forwarded": {`for=unknown;proto=https`}},
			wantRemote: "10.0.0.2:4000", wantScheme: "https"},
		{name: "tls without headers", remote: "203.0.113.9:4000", tls: true, wantRemote: "203.0.113.9:4000", wantScheme: "https"},
		{name: "unix peer trusted", remote: "@", unix: true,
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.7"}},
			wantRemote: "198.51.100.7:0", wantScheme: "http"},
		{name: "unix peer untrusted by default", remote: "@",
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.7"}},
			wantRemote: "@", wantScheme: "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(Options{TrustedProxies: trusted, TrustUnix: tt.unix})
			if err != nil {
				t.Fatal(err)
			}
			var got *http.Request
			h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }))
			req := httptest.NewRequest("GET", "http://example.com/p", nil)
			req.RemoteAddr = tt.remote
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got.RemoteAddr != tt.wantRemote {
				t.Errorf("RemoteAddr = %q, want %q", got.RemoteAddr, tt.wantRemote)
			}
			wantHost := tt.wantHost
			if wantHost == "" {
				wantHost = "example.com"
			}
			if got.Host != wantHost {
				t.Errorf("Host = %q, want %q", got.Host, wantHost)
			}
			if s := Scheme(got); s != tt.wantScheme {
				t.Errorf("Scheme = %q, want %q", s, tt.wantScheme)
			}
			if got != req && req.RemoteAddr != tt.remote {
				t.Errorf("the original request was changed")
			}
		})
	}
}

func TestURLSchemeSet(t *testing.T) {
	f, _ := New(Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	var got *http.Request
	h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }))
	req := httptest.NewRequest("GET", "/p", nil)
	req.RemoteAddr = "10.0.0.2:1"
	req.Header.Set("X-Forwarded-Proto", "https")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.URL.Scheme != "https" || req.URL.Scheme != "" {
		t.Errorf("URL.Scheme = %q (original %q)", got.URL.Scheme, req.URL.Scheme)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without trusted proxies = nil error")
	}
	if _, err := New(Options{TrustedProxies: []netip.Prefix{{}}}); err == nil {
		t.Error("New with an invalid prefix = nil error")
	}
}

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		local   map[string]string
		wantErr string
	}{
		{name: "list", local: map[string]string{"trusted_proxies": "10.0.0.0/8, 127.0.0.1 ::1\n 192.168.0.0/16 unix"}},
		{name: "missing", wantErr: `key "trusted_proxies"`},
		{name: "bad", local: map[string]string{"trusted_proxies": "10.0.0.0/33"}, wantErr: `key "trusted_proxies"`},
		{name: "name not address", local: map[string]string{"trusted_proxies": "proxy.local"}, wantErr: `key "trusted_proxies"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registrytest.CheckFilter(t, "proxyfix", "filter:pf", "/tmp/t.ini", tt.local, tt.wantErr)
		})
	}
}
