package wsgi

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/gopaste/gopaste/apps/urlmap"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/process"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

func TestFactory(t *testing.T) {
	peer.RequirePython(t)
	dir := t.TempDir()
	peer.WriteFile(t, dir, "lib/greeting.py", "WORD = 'hi'\n")
	peer.WriteFile(t, dir, "app.py", "import json, greeting\n\ndef make():\n"+
		"    def app(environ, start_response):\n"+
		"        start_response('200 OK', [('Content-Type', 'text/plain')])\n"+
		"        return [greeting.WORD.encode(), environ['wsgi.url_scheme'].encode()]\n"+
		"    return app\n")
	cfg := peer.WriteFile(t, dir, "site.ini", "[app:main]\nuse = wsgi\nmodule = app:make()\npythonpath = lib\n"+
		"workers = 1\nthreads = 2\nenv PYTHONDONTWRITEBYTECODE = 1\nmax_requests = 1000\ntimeout = 30s\n")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := deploy.BuildApp(cfg, "main", deploy.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	rec := httptest.NewRecorder()
	app.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || rec.Body.String() != "hihttp" {
		t.Errorf("GET / = %d %q, want 200 hihttp", rec.Code, rec.Body)
	}
	// --reload watches the application's own modules, not the stdlib's.
	for _, f := range []string{filepath.Join(dir, "app.py"), filepath.Join(dir, "lib", "greeting.py")} {
		if !slices.Contains(app.Files, f) {
			t.Errorf("watched files %v lack %s", app.Files, f)
		}
	}
	for _, f := range app.Files {
		if strings.Contains(f, "/usr/lib/python3") {
			t.Errorf("watched files %v include the standard library", app.Files)
			break
		}
	}
}

func TestFactoryErrors(t *testing.T) {
	peer.RequirePython(t)
	for _, tc := range []struct{ keys, want string }{
		{"", "set exactly one of module"},
		{"module = a\npaste = config:x.ini", "set exactly one of module"},
		{"module = a\nthreads = 0", `key "threads": must be at least 1`},
		{"module = a\nconcurrency = 4", `key "concurrency": is set by the wsgi app itself`},
		{"module = a\nworkrs = 2", `unknown key "workrs"`},
		{"module = a\npython = /nonexistent/python3", "no Python interpreter at /nonexistent/python3"},
		{"module = a\nstack_signal = BOGUS", `key "stack_signal"`},
	} {
		dir := t.TempDir()
		cfg := peer.WriteFile(t, dir, "site.ini", "[app:main]\nuse = wsgi\n"+tc.keys+"\n")
		rep, err := deploy.Check(cfg, deploy.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, e := range rep.Errs {
			msgs = append(msgs, e.Error())
		}
		if all := strings.Join(msgs, "\n"); !strings.Contains(all, tc.want) {
			t.Errorf("%q: errors %q, want one with %q", tc.keys, all, tc.want)
		}
	}
}

// pipeline is 2 unless a timeout is set, where a request's wait behind
// another would count against it; a value given is taken as it is.
func TestPipelineDefault(t *testing.T) {
	for _, tc := range []struct {
		keys map[string]string
		want int
	}{
		{map[string]string{}, 1},
		{map[string]string{"timeout": "30s"}, 0},
		{map[string]string{"hard_timeout": "1m"}, 0},
		{map[string]string{"timeout": "30s", "pipeline": "3"}, 3},
		{map[string]string{"pipeline": "0"}, 0},
	} {
		c := registrytest.Config(registry.App, "app:main", "site.ini", tc.keys)
		if got := readPipeline(c, process.ReadOptions(c)); got != tc.want || c.Err() != nil {
			t.Errorf("%v: pipeline %d (%v), want %d", tc.keys, got, c.Err(), tc.want)
		}
	}
	c := registrytest.Config(registry.App, "app:main", "site.ini", map[string]string{"pipeline": "-1"})
	if readPipeline(c, process.ReadOptions(c)); c.Err() == nil || !strings.Contains(c.Err().Error(), "must not be negative") {
		t.Errorf("pipeline = -1: %v, want an error", c.Err())
	}
}

// TestMount: under urlmap the mount point is SCRIPT_NAME and the rest
// PATH_INFO, so the application builds its URLs under the mount.
func TestMount(t *testing.T) {
	peer.RequirePython(t)
	dir := t.TempDir()
	peer.WriteFile(t, dir, "app.py", "from wsgiref.util import request_uri\n\n"+
		"def application(environ, start_response):\n"+
		"    start_response('200 OK', [('Content-Type', 'text/plain')])\n"+
		"    return [('%s|%s|%s' % (environ['SCRIPT_NAME'], environ['PATH_INFO'], request_uri(environ))).encode()]\n")
	cfg := peer.WriteFile(t, dir, "site.ini", "[composite:main]\nuse = urlmap\n/py = pyapp\n\n"+
		"[app:pyapp]\nuse = wsgi\nmodule = app\nworkers = 1\nenv PYTHONDONTWRITEBYTECODE = 1\n")
	app, err := deploy.BuildApp(cfg, "main", deploy.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	rec := httptest.NewRecorder()
	app.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "http://example.com/py/a/b?x=1", nil))
	if want := "/py|/a/b|http://example.com/py/a/b?x=1"; rec.Body.String() != want {
		t.Errorf("GET /py/a/b = %d %q, want %q", rec.Code, rec.Body, want)
	}
}

// TestVirtualenv: virtualenv runs the environment's interpreter, with
// VIRTUAL_ENV set, as an activated shell would.
func TestVirtualenv(t *testing.T) {
	py := peer.RequirePython(t, "venv")
	venv := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command(py, "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		peer.Missing(t, "python3 -m venv: %v\n%s", err, out)
	}
	dir := t.TempDir()
	peer.WriteFile(t, dir, "app.py", "import os, sys\n\ndef application(environ, start_response):\n"+
		"    start_response('200 OK', [('Content-Type', 'text/plain')])\n"+
		"    return [('%s|%s' % (sys.prefix, os.environ.get('VIRTUAL_ENV'))).encode()]\n")
	cfg := peer.WriteFile(t, dir, "site.ini", "[app:main]\nuse = wsgi\nmodule = app\nworkers = 1\nvirtualenv = "+venv+"\n")
	app, err := deploy.BuildApp(cfg, "main", deploy.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	rec := httptest.NewRecorder()
	app.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if want := venv + "|" + venv; rec.Body.String() != want {
		t.Errorf("sys.prefix|VIRTUAL_ENV = %q, want %q", rec.Body, want)
	}
}
