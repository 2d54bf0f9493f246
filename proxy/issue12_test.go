package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopaste/gopaste/registry"
)

// records is a slog.Handler keeping what was logged.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// at returns the messages logged at level or above, each with its attrs.
func (h *records) at(level slog.Level) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		if r.Level < level {
			continue
		}
		s := r.Message
		r.Attrs(func(a slog.Attr) bool {
			s += " " + a.Key + "=" + a.Value.String()
			return true
		})
		out = append(out, s)
	}
	return out
}

// TestHTTPProxyDropsForbiddenHeadersIssue12: http_proxy drops Proxy
// (httpoxy) and underscore names by the rule the gateway proxies use, and
// replaces a client's X-Forwarded-Prefix.
func TestHTTPProxyDropsForbiddenHeadersIssue12(t *testing.T) {
	t.Run("reverseproxy", func(t *testing.T) { testHTTPProxyDropsForbiddenHeadersIssue12(t, newProxy) })
	t.Run("http", func(t *testing.T) { testHTTPProxyDropsForbiddenHeadersIssue12(t, newHTTPProxy) })
}

func testHTTPProxyDropsForbiddenHeadersIssue12(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	var seen http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
	}))
	defer srv.Close()
	p := newProxy(t, Options{Backends: []Backend{backendOf(t, srv)}})
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("Proxy", "http://evil.example:3128")
	req.Header["X-Auth_user"] = []string{"admin"}
	req.Header.Set("X-Auth-User", "gopher")
	req.Header.Set("X-Forwarded-Prefix", "/evil")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	for _, k := range []string{"Proxy", "X-Auth_user", "X-Forwarded-Prefix"} {
		if v, ok := seen[k]; ok {
			t.Errorf("backend got %s: %q", k, v)
		}
	}
	if seen.Get("X-Auth-User") != "gopher" {
		t.Errorf("X-Auth-User = %q, want gopher", seen.Get("X-Auth-User"))
	}
}

// TestBackendDownLoggedOnceIssue12: a dead backend gives one "backend
// down" line naming the reason (connection refused), no line per failed
// request, and one "backend up" line counting the requests that failed
// meanwhile; with passive and with active checks.
func TestBackendDownLoggedOnceIssue12(t *testing.T) { bothPaths(t, testBackendDownLoggedOnceIssue12) }

func testBackendDownLoggedOnceIssue12(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	for _, active := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(fmt.Sprint("health_check_interval=", active), func(t *testing.T) {
			dead := refusedBackend(t)
			logs := &records{}
			p := newProxy(t, Options{Backends: []Backend{dead}, HealthCheckInterval: active,
				FailTimeout: time.Millisecond, Logger: slog.New(logs)})
			const n = 200
			for range n {
				if rec := get(t, p, "GET", "/", nil); rec.Code != http.StatusBadGateway {
					t.Fatalf("GET = %d, want 502", rec.Code)
				}
			}
			warns := logs.at(slog.LevelWarn)
			if len(warns) != 1 || !strings.HasPrefix(warns[0], "backend down") || !strings.Contains(warns[0], "reason=connection refused") {
				t.Fatalf("after %d failed requests, warnings = %q; want one backend down line with reason=connection refused", n, warns)
			}

			l, err := net.Listen("tcp", dead.Address)
			if err != nil {
				t.Fatal(err)
			}
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
			go srv.Serve(l)
			defer srv.Close()
			waitFor(t, "a 200", func() bool { return get(t, p, "GET", "/", nil).Code == 200 })
			ups := func() []string {
				var ups []string
				for _, s := range logs.at(slog.LevelInfo) {
					if strings.HasPrefix(s, "backend up") {
						ups = append(ups, s)
					}
				}
				return ups
			}
			waitFor(t, "backend up", func() bool { return len(ups()) > 0 })
			if u := ups(); len(u) != 1 || !strings.Contains(u[0], fmt.Sprintf("failed_requests=%d", n)) {
				t.Errorf("backend up lines = %q, want one with failed_requests=%d", u, n)
			}
			if warns := logs.at(slog.LevelWarn); len(warns) != 1 {
				t.Errorf("warnings = %q, want only the backend down line", warns)
			}
		})
	}
}

// TestDiedMidRequestNamesRealReasonIssue12: a backend that takes the
// connection and dies before replying is reported as what it is: down,
// connection refused (the next dial), not a malformed or empty reply.
func TestDiedMidRequestNamesRealReasonIssue12(t *testing.T) {
	bothPaths(t, testDiedMidRequestNamesRealReasonIssue12)
}

func testDiedMidRequestNamesRealReasonIssue12(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		l.Close() // the process dies: its listener and connection go
		c.Read(make([]byte, 4096))
		c.Close()
	}()
	be, _ := ParseBackend(l.Addr().String())
	logs := &records{}
	p := newProxy(t, Options{Backends: []Backend{be}, Logger: slog.New(logs)})
	if rec := get(t, p, "GET", "/", nil); rec.Code != http.StatusBadGateway {
		t.Fatalf("GET = %d, want 502", rec.Code)
	}
	warns := logs.at(slog.LevelWarn)
	if len(warns) != 1 || !strings.HasPrefix(warns[0], "backend down") || !strings.Contains(warns[0], "reason=connection refused") {
		t.Errorf("warnings = %q; want one backend down line with reason=connection refused", warns)
	}
}

// TestServerNameKeyIssue12: server_name is read for the gateway proxies'
// SERVER_NAME (name or name:port), checked, and refused by http_proxy,
// which sends the client's Host.
func TestServerNameKeyIssue12(t *testing.T) {
	for val, ok := range map[string]bool{"site.example": true, "site.example:8443": true, "[::1]:80": true,
		"a b": false, "site:0": false, "site:99999": false, "site:": false, "/x": false} {
		c := registry.NewConfig(registry.App, "app:p", "t.ini:1", "/tmp/t.ini", nil,
			[]registry.Entry{{Key: "backends", Value: "127.0.0.1:1"}, {Key: "server_name", Value: val}}, nil, nil)
		o := ReadOptions(c)
		if err := c.Err(); (err == nil) != ok || ok && o.Vars().ServerName != val {
			t.Errorf("server_name = %q: err %v, Vars().ServerName %q", val, err, o.Vars().ServerName)
		}
	}
	c := registry.NewConfig(registry.App, "app:p", "t.ini:1", "/tmp/t.ini", nil,
		[]registry.Entry{{Key: "backends", Value: "127.0.0.1:1"}, {Key: "server_name", Value: "site"}}, nil, nil)
	if _, err := httpProxyFactory(c); err == nil || !strings.Contains(err.Error(), "server_name") {
		t.Errorf("http_proxy with server_name: %v, want an error naming the key", err)
	}
}

// TestClientBodyErrorIssue12: a client's body that breaks off (a
// malformed chunk, a body cut short) is the client's fault: 400, or 413
// for a size limit in front, not 502; the backend is not marked down and
// nothing is logged as a warning.
func TestClientBodyErrorIssue12(t *testing.T) {
	t.Run("reverseproxy", func(t *testing.T) { testClientBodyErrorIssue12(t, newProxy) })
	t.Run("http", func(t *testing.T) { testClientBodyErrorIssue12(t, newHTTPProxy) })
}

func testClientBodyErrorIssue12(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"malformed chunk", errors.New("invalid byte in chunk length"), http.StatusBadRequest},
		{"cut short", io.ErrUnexpectedEOF, http.StatusBadRequest},
		{"over a limit", &http.MaxBytesError{Limit: 4}, http.StatusRequestEntityTooLarge},
	} {
		// Chunked (length -1), and with a length the body falls short of
		// (http_proxy's own client sends that one).
		for _, length := range []int64{-1, 100} {
			t.Run(fmt.Sprint(tc.name, "/length=", length), func(t *testing.T) {
				logs := &records{}
				p := newProxy(t, Options{Backends: []Backend{backendOf(t, srv)}, Logger: slog.New(logs)})
				req := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("hello"), iotest.ErrReader(tc.err)))
				req.ContentLength = length
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, req)
				if rec.Code != tc.want {
					t.Errorf("status %d, want %d", rec.Code, tc.want)
				}
				if w := logs.at(slog.LevelWarn); len(w) != 0 {
					t.Errorf("warnings %q", w)
				}
				if rec := get(t, p, "GET", "/", nil); rec.Code != 200 {
					t.Errorf("next GET = %d, want 200 (backend not marked down)", rec.Code)
				}
			})
		}
	}
}
