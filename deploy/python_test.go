package deploy_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/deploy"
	_ "github.com/gopaste/gopaste/middleware/accesslog"
	_ "github.com/gopaste/gopaste/middleware/compress"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
	_ "github.com/gopaste/gopaste/session/memstore"
)

// pythonRegistry is testRegistry plus a stand-in for the wsgi app: it
// takes the wsgi keys deploy gives a Python section and answers every
// request with "wsgi PASTE" and its keys in X-Wsgi-* headers, so that
// tests see what would be loaded in Python. generated keeps the text of
// each generated pipeline file it was given, read at build time.
func pythonRegistry(t *testing.T, generated map[string]string) *registry.Registry {
	t.Helper()
	r := testRegistry(t)
	wsgi := func(c *registry.Config) (http.Handler, error) {
		paste := c.Required("paste")
		keys := map[string]string{}
		for _, k := range []string{"pythonpath", "virtualenv", "logging_config", "workers", "threads", "timeout", "hard_timeout", "max_requests", "max_requests_jitter", "preload", "chdir", "graceful_timeout", "user", "group"} {
			if v, ok := c.Lookup(k); ok {
				keys[k] = v
			}
		}
		for _, k := range c.KeysWithPrefix("env ") {
			keys[k] = c.String(k, "")
		}
		if c.Int("threads", 1) < 1 {
			c.Errorf("threads", "must be at least 1")
		}
		if file, ok := strings.CutPrefix(paste, "config:"); ok && generated != nil {
			file, _, _ = strings.Cut(file, "#")
			if strings.HasSuffix(file, "/pipeline.ini") {
				b, err := os.ReadFile(file)
				if err != nil {
					t.Errorf("generated file: %v", err)
				}
				generated[c.Section] = string(b)
			}
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for k, v := range keys {
				w.Header().Set("X-Wsgi-"+k, v)
			}
			w.Header().Set("X-Seen", fmt.Sprintf("script=%s path=%s tls=%v remote=%s", mount.ScriptName(r.Context()), r.URL.Path, r.TLS != nil, r.RemoteAddr))
			fmt.Fprintf(w, "wsgi %s", paste)
		}), c.Err()
	}
	if err := r.AddApp("wsgi", wsgi, "stand-in for the wsgi app"); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPythonGolden runs testdata/python/*.txtar as TestCheckGolden runs
// testdata/check, with the stand-in wsgi app: which sections Python
// serves, with which wsgi keys, and the waitress and gunicorn keys.
func TestPythonGolden(t *testing.T) {
	t.Setenv("VIRTUAL_ENV", "")
	goldenChecks(t, "testdata/python/*.txtar", 5, func(t *testing.T) *registry.Registry { return pythonRegistry(t, nil) })
}

// A pipeline whose first Python filter comes after a Go filter: Go
// serves the filters before it, and Python a generated pipeline of the
// rest that names the original sections; the file is removed with the
// app.
func TestPythonPipelineSuffix(t *testing.T) {
	t.Setenv("VIRTUAL_ENV", "")
	dir := t.TempDir()
	p := filepath.Join(dir, "site.ini")
	os.WriteFile(p, []byte(`[pipeline:main]
pipeline = tagged egg:WebError#evalerror sub/prefix.ini#x myapp

[filter:tagged]
use = tag
name = go

[app:myapp]
use = egg:myproject
`), 0o644)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	generated := map[string]string{}
	reg := pythonRegistry(t, generated)
	// "sub/prefix.ini#x" is not a section name: PasteDeploy would look
	// for a section of that name; so does gopaste.
	_, err := deploy.BuildApp(p, "", deploy.Options{Registry: reg, Logger: discard()})
	if err == nil || !strings.Contains(err.Error(), `no filter section "sub/prefix.ini#x"`) {
		t.Fatalf("err = %v", err)
	}
	os.WriteFile(p, []byte(`[pipeline:main]
pipeline = tagged egg:WebError#evalerror paste_prefix myapp

[filter:tagged]
use = tag
name = go

[filter:paste_prefix]
use = egg:PasteDeploy#prefix

[app:myapp]
use = egg:myproject
`), 0o644)
	app, err := deploy.BuildApp(p, "", deploy.Options{Registry: reg, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	app.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if got := w.Header().Get("X-Tag"); got != "go" {
		t.Errorf("X-Tag = %q, want the Go filter's", got)
	}
	body := w.Body.String()
	if !strings.HasPrefix(body, "wsgi config:") || !strings.HasSuffix(body, "/pipeline.ini#main") {
		t.Fatalf("body %q: not the generated pipeline", body)
	}
	gen := generated["filter:evalerror"]
	if gen == "" {
		// The holder is the first Python filter, named by reference.
		for _, v := range generated {
			gen = v
		}
	}
	for _, want := range []string{
		"[pipeline:main]\npipeline = f0 f1 app\n",
		"[filter:f0]\nuse = egg:WebError#evalerror\n",
		"[filter:f1]\nuse = config:" + p + "#paste_prefix\n",
		"[app:app]\nuse = config:" + p + "#myapp\n",
	} {
		if !strings.Contains(gen, want) {
			t.Errorf("generated pipeline lacks %q:\n%s", want, gen)
		}
	}
	genFile := strings.TrimSuffix(strings.TrimPrefix(body, "wsgi config:"), "#main")
	if _, err := os.Stat(genFile); err != nil {
		t.Fatalf("generated file gone while the app lives: %v", err)
	}
	app.Close()
	if _, err := os.Stat(genFile); !os.IsNotExist(err) {
		t.Errorf("generated file %s left after Close (%v)", genFile, err)
	}
}

// Load serves waitress's and gunicorn's server keys: the address, the
// Python keys on the Python app, [logger_root]'s level as gopaste's
// own, and the handler keys (url_scheme, url_prefix, trusted_proxy).
func TestPythonLoadServerKeys(t *testing.T) {
	t.Setenv("VIRTUAL_ENV", "/venv")
	dir := t.TempDir()
	p := filepath.Join(dir, "production.ini")
	os.WriteFile(p, []byte(`[app:main]
use = egg:myproject

[server:main]
use = egg:waitress#main
listen = *:6543
threads = 8
url_scheme = https
url_prefix = /shop
trusted_proxy = 10.0.0.1
trusted_proxy_headers = x-forwarded-for x-forwarded-proto

[loggers]
keys = root

[logger_root]
level = WARN
handlers =
`), 0o644)
	reg := pythonRegistry(t, nil)
	g, err := deploy.Load(p, "", "", deploy.Options{Registry: reg, Logger: discard(),
		ServerKeys: []registry.Entry{{Key: "port", Value: "0", Origin: "--port"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if len(g.Warnings) != 0 {
		t.Errorf("warnings: %v", g.Warnings)
	}
	if g.Log.Level != "warn" {
		t.Errorf("log level %q, want warn from [logger_root]", g.Log.Level)
	}
	r := httptest.NewRequest("GET", "/shop/cart", nil)
	r.RemoteAddr = "10.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "192.0.2.7")
	w := httptest.NewRecorder()
	g.Handler.ServeHTTP(w, r)
	h := w.Header()
	for k, want := range map[string]string{"X-Wsgi-threads": "8", "X-Wsgi-virtualenv": "/venv", "X-Wsgi-logging_config": p, "X-Wsgi-pythonpath": dir} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got, want := h.Get("X-Seen"), "script=/shop path=/cart tls=true remote=192.0.2.7:0"; got != want {
		t.Errorf("the app saw %q, want %q", got, want)
	}
	if _, ok := g.Handler.(interface {
		ConnContext(context.Context, net.Conn) context.Context
	}); !ok {
		t.Errorf("the handler lost the app's ConnContext")
	}
	if got := w.Body.String(); got != "wsgi config:"+p+"#main" {
		t.Errorf("body %q", got)
	}
}

// A waitress section without an address listens where waitress would
// (0.0.0.0:8080); gopaste serve --port overrides the port only, and a
// gunicorn section defaults to 127.0.0.1:8000.
func TestPythonServerDefaultAddress(t *testing.T) {
	for _, tc := range []struct {
		use, keys  string
		serverKeys []registry.Entry
		want       string
	}{
		{"egg:waitress#main", "", nil, "0.0.0.0:8080"},
		{"egg:waitress#main", "", []registry.Entry{{Key: "port", Value: "0", Origin: "--port"}}, "0.0.0.0:0"},
		{"egg:waitress#main", "listen = localhost:6543\n", []registry.Entry{{Key: "port", Value: "0", Origin: "--port"}}, "localhost:0"},
		{"egg:waitress#main", "host = 127.0.0.2\n", nil, "127.0.0.2:8080"},
		{"egg:gunicorn#main", "", nil, "127.0.0.1:8000"},
		{"egg:gunicorn#main", "bind = :9000\n", nil, "0.0.0.0:9000"},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "site.ini")
		os.WriteFile(p, []byte("[app:main]\nuse = env\n\n[server:main]\nuse = "+tc.use+"\n"+tc.keys), 0o644)
		g, err := deploy.Load(p, "", "", deploy.Options{Registry: testRegistry(t), Logger: discard(), ServerKeys: tc.serverKeys})
		if err != nil {
			t.Fatalf("%s %q: %v", tc.use, tc.keys, err)
		}
		_, addr := g.Server.(*server.Server).Options.Listen.Addr()
		if addr != tc.want {
			t.Errorf("%s %q %v: listens on %s, want %s", tc.use, tc.keys, tc.serverKeys, addr, tc.want)
		}
		g.Close()
	}
}

// gunicorn's forwarded_allow_ips trusts those proxies' X-Forwarded-For
// and -Proto, as the proxyfix filter does; other peers are not believed.
func TestPythonGunicornForwardedAllowIPs(t *testing.T) {
	t.Setenv("VIRTUAL_ENV", "")
	dir := t.TempDir()
	p := filepath.Join(dir, "site.ini")
	os.WriteFile(p, []byte("[app:main]\nuse = egg:myproject\n\n[server:main]\nuse = egg:gunicorn#main\nforwarded_allow_ips = 10.0.0.1, 10.0.0.2\n"), 0o644)
	g, err := deploy.Load(p, "", "", deploy.Options{Registry: pythonRegistry(t, nil), Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for peer, want := range map[string]string{
		"10.0.0.2:4000":  "script= path=/ tls=false remote=192.0.2.7:0",
		"192.0.2.9:4000": "script= path=/ tls=false remote=192.0.2.9:4000",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", "192.0.2.7")
		w := httptest.NewRecorder()
		g.Handler.ServeHTTP(w, r)
		if got := w.Header().Get("X-Seen"); got != want {
			t.Errorf("from %s: the app saw %q, want %q", peer, got, want)
		}
	}
}
