package fastcgi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/registry"
)

func newConfig(kind registry.Kind, section string, kv ...string) *registry.Config {
	var local []registry.Entry
	for i := 0; i+1 < len(kv); i += 2 {
		local = append(local, registry.Entry{Key: kv[i], Value: kv[i+1], Origin: "t.ini:1"})
	}
	return registry.NewConfig(kind, section, "t.ini:1", "/tmp/t.ini", nil, local, nil, quiet())
}

func TestProxyFactory(t *testing.T) {
	var vars []cgivars.Pair
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vars = cgivars.Vars(r.Context())
		io.WriteString(w, "from backend")
	}))
	p, _ := registry.Default.Lookup(registry.App, "fastcgi_proxy")
	c := newConfig(registry.App, "app:php",
		"backends", addr, "max_conns", "1", "document_root", "/srv/www", "index", "index.php",
		"split_path", ".php", "env APP_ENV", "prod")
	h, err := p.App(c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, cl := range c.Closers() {
			cl.Close()
		}
	}()
	if u := c.Unread(); len(u) > 0 {
		t.Errorf("unread keys %v", u)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/a/", nil))
	if rec.Code != 200 || rec.Body.String() != "from backend" {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
	for k, want := range map[string]string{"SCRIPT_FILENAME": "/srv/www/a/index.php", "APP_ENV": "prod", "SCRIPT_NAME": "/a/index.php"} {
		if got, _ := cgivars.Get(vars, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The CVE-2019-11043 newline is a client error, never sent on.
	req := httptest.NewRequest("GET", "/x.php", nil)
	req.URL.Path = "/x.php/\nPHP_VALUE"
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("newline path: %d, want 400", rec.Code)
	}
}

func TestProxyFactoryErrors(t *testing.T) {
	p, _ := registry.Default.Lookup(registry.App, "fastcgi_proxy")
	for _, kv := range [][]string{
		{"backends", "127.0.0.1:9000", "split_path", ".php"},
		{"backends", "127.0.0.1:9000", "document_root", "/srv", "split_path", "php"},
		{"backends", "127.0.0.1:9000", "max_conns", "0"},
		{"backends", "127.0.0.1:9000", "env ", "x"},
	} {
		if _, err := p.App(newConfig(registry.App, "app:php", kv...)); err == nil {
			t.Errorf("%v: no error", kv)
		}
	}
}

func TestServerFactory(t *testing.T) {
	for _, name := range []string{"fastcgi", "egg:Paste#flup_fcgi_thread"} {
		p, ok := registry.Default.Lookup(registry.ServerKind, name)
		if !ok {
			t.Fatalf("server %q not registered", name)
		}
		if _, err := p.Server(newConfig(registry.ServerKind, "server:main", "port", "0", "max_concurrency", "4")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(func() string {
		p, _ := registry.Default.Lookup(registry.ServerKind, "fastcgi")
		_, err := p.Server(newConfig(registry.ServerKind, "server:main", "protocol", "gopher"))
		if err == nil {
			return ""
		}
		return err.Error()
	}(), "gopher") {
		t.Error("unknown protocol accepted")
	}
}
