package uwsgi

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/registry"
)

func newConfig(kind registry.Kind, section string, kv ...string) *registry.Config {
	var local []registry.Entry
	for i := 0; i+1 < len(kv); i += 2 {
		local = append(local, registry.Entry{Key: kv[i], Value: kv[i+1], Origin: "t.ini:1"})
	}
	return registry.NewConfig(kind, section, "t.ini:1", "/tmp/t.ini", nil, local, nil, slog.New(slog.DiscardHandler))
}

func TestProxyFactory(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	p, ok := registry.Default.Lookup(registry.App, "uwsgi_proxy")
	if !ok {
		t.Fatal("uwsgi_proxy not registered")
	}
	c := newConfig(registry.App, "app:py", "backends", addr, "modifier1", "30")
	h, err := p.App(c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, cl := range c.Closers() {
			cl.Close()
		}
	}()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "http://example.com/x?q=1", http.NoBody))
	if rec.Code != 200 || rec.Body.String() != `POST /x?q=1 host=example.com len=0 body="" agent=""` {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
	if _, err := p.App(newConfig(registry.App, "app:py", "backends", addr, "modifier1", "256")); err == nil {
		t.Error("modifier1 256 accepted")
	}
}

// TestProxyEmptyReply502 pins the interop rule: a backend that closes
// without replying (uWSGI given a modifier1 it has no plugin for) is a 502.
func TestProxyEmptyReply502(t *testing.T) {
	b := wiretest.Serve(t, "tcp", func(c net.Conn) { io.CopyN(io.Discard, c, 4) })
	p, _ := registry.Default.Lookup(registry.App, "uwsgi_proxy")
	c := newConfig(registry.App, "app:py", "backends", b.Addr(), "modifier1", "5")
	h, err := p.App(c)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusBadGateway {
		t.Errorf("status %d, want 502", rec.Code)
	}
}

func TestServerFactory(t *testing.T) {
	p, ok := registry.Default.Lookup(registry.ServerKind, "uwsgi")
	if !ok {
		t.Fatal("server uwsgi not registered")
	}
	if _, err := p.Server(newConfig(registry.ServerKind, "server:main", "port", "0")); err != nil {
		t.Error(err)
	}
}
