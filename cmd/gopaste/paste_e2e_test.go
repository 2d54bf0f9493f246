package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
)

// pyramidProject writes a Pyramid project as its cookiecutter lays it
// out, with the egg-info directory "pip install -e ." would leave beside
// development.ini, so that PasteDeploy finds egg:myproject offline, and
// returns the directory.
func pyramidProject(t *testing.T) string {
	t.Helper()
	peer.RequirePython(t, "pyramid", "paste.deploy")
	dir := t.TempDir()
	peer.WriteFile(t, dir, "myproject/__init__.py", `import logging
from pyramid.config import Configurator
from pyramid.response import Response

log = logging.getLogger(__name__)


def hello(request):
    log.info("hello from %s", request.path)
    return Response("Hello from Pyramid, %s at %s|%s" % (
        request.registry.settings.get("myproject.greeting", "?"), request.script_name, request.path_info))


def main(global_config, **settings):
    with Configurator(settings=settings) as config:
        config.add_route("hello", "/hello")
        config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()


def shout_filter(global_conf, **local):
    def filt(app):
        def wrapped(environ, start_response):
            return [b"".join(app(environ, start_response)).upper()]
        return wrapped
    return filt
`)
	peer.WriteFile(t, dir, "myproject.egg-info/PKG-INFO", "Metadata-Version: 2.1\nName: myproject\nVersion: 0.0\n")
	peer.WriteFile(t, dir, "myproject.egg-info/entry_points.txt", "[paste.app_factory]\nmain = myproject:main\n\n[paste.filter_factory]\nshout = myproject:shout_filter\n")
	return dir
}

// developmentINI is the development.ini Pyramid's cookiecutter writes,
// with the project's own setting added.
const developmentINI = `###
# app configuration
# https://docs.pylonsproject.org/projects/pyramid/en/latest/narr/environment.html
###

[app:main]
use = egg:myproject

pyramid.reload_templates = true
pyramid.debug_authorization = false
pyramid.debug_notfound = false
pyramid.debug_routematch = false
pyramid.default_locale_name = en
myproject.greeting = hi

###
# wsgi server configuration
###

[server:main]
use = egg:waitress#main
listen = localhost:6543

###
# logging configuration
# https://docs.pylonsproject.org/projects/pyramid/en/latest/narr/logging.html
###

[loggers]
keys = root, myproject

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = INFO
handlers = console

[logger_myproject]
level = DEBUG
handlers =
qualname = myproject

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s:%(lineno)s][%(threadName)s] %(message)s
`

// TestServePyramidDevelopmentINI: "gopaste serve development.ini" serves
// a Pyramid project's file as it is: the egg app in Python workers,
// waitress's listen (the port overridden by --port 0), the [loggers]
// sections configuring the workers' logging; check says Python serves
// [app:main].
func TestServePyramidDevelopmentINI(t *testing.T) {
	dir := pyramidProject(t)
	cfg := filepath.Join(dir, "development.ini")
	os.WriteFile(cfg, []byte(developmentINI), 0o644)

	out, err := exec.Command(gopasteBinary(t), "check", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("gopaste check: %v\n%s", err, out)
	}
	for _, want := range []string{
		"[app:main] (" + cfg + ":6) python app; use = egg:myproject; served by Python",
		"  python: app wsgi\n      paste = config:" + cfg + "#main  ([app:main] handed to Python)",
		"logging_config = " + cfg + "  ([loggers] at " + cfg + ":29)",
		"[server:main] (" + cfg + ":20) server waitress; use = egg:waitress#main",
		"\nserved by Python (PasteDeploy, in wsgi apps): [app:main]; Go serves the other sections\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "ignored") {
		t.Errorf("check still calls the logging sections ignored:\n%s", out)
	}

	s := serve(t, "--port", "0", cfg)
	if !strings.HasPrefix(s.addr, "127.0.0.1:") && !strings.HasPrefix(s.addr, "[::1]:") {
		t.Errorf("listening on %s, want localhost (waitress's listen)", s.addr)
	}
	code, body := get(t, "http://"+s.addr+"/hello")
	if code != 200 || body != "Hello from Pyramid, hi at |/hello" {
		t.Fatalf("GET /hello = %d %q", code, body)
	}
	// The Python logging config formats the project's log line; it
	// reaches gopaste's log.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.logs.String(), "INFO  [myproject:9]") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.logs.String(), "hello from /hello") || !strings.Contains(s.logs.String(), "INFO  [myproject:9]") {
		t.Errorf("the project's log line, formatted by [formatter_generic], is not in gopaste's log:\n%s", s.logs)
	}
}

// TestServePasteMixed: Go parts serve the rest of a PasteDeploy file
// whose app is Python: urlmap mounts the Pyramid app behind Go's gzip
// filter and a Go static app beside it.
func TestServePasteMixed(t *testing.T) {
	dir := pyramidProject(t)
	peer.WriteFile(t, dir, "public/hello.txt", "hello from disk\n")
	cfg := filepath.Join(dir, "site.ini")
	os.WriteFile(cfg, []byte(`[composite:main]
use = egg:Paste#urlmap
/app = pyapp
/static = files

[pipeline:pyapp]
pipeline = egg:Paste#gzip myapp

[app:myapp]
use = egg:myproject
myproject.greeting = mounted

[app:files]
use = static
document_root = %(here)s/public

[server:main]
use = egg:gunicorn#main
bind = 127.0.0.1:0
workers = 2
threads = 2
timeout = 30
`), 0o644)
	s := serve(t, cfg)
	code, body := get(t, "http://"+s.addr+"/app/hello")
	if code != 200 || body != "Hello from Pyramid, mounted at /app|/hello" {
		t.Errorf("GET /app/hello = %d %q", code, body)
	}
	code, body = get(t, "http://"+s.addr+"/static/hello.txt")
	if code != 200 || body != "hello from disk\n" {
		t.Errorf("GET /static/hello.txt = %d %q", code, body)
	}
}

// TestServeRefusesWaitressKeysItCannotHonour: a waitress or gunicorn key
// gopaste cannot honour stops serve with an error naming the nearest
// equivalent.
func TestServeRefusesWaitressKeysItCannotHonour(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "production.ini")
	os.WriteFile(cfg, []byte(`[app:main]
use = env

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:0
expose_tracebacks = true
`), 0o644)
	out, err := exec.Command(gopasteBinary(t), "serve", cfg).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("serve: %v, want exit status 1\n%s", err, out)
	}
	want := `production.ini:7: [server:main]: key "expose_tracebacks": gopaste cannot honour waitress's expose_tracebacks; the nearest equivalent is the errors filter with debug = true`
	if !strings.Contains(string(out), want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// TestServePastePipelineSuffix: a pipeline whose Python filter comes
// after a gopaste filter: Go runs the headers filter, and PasteDeploy
// the rest (the project's filter around its app) from the pipeline
// gopaste generates.
func TestServePastePipelineSuffix(t *testing.T) {
	dir := pyramidProject(t)
	cfg := filepath.Join(dir, "site.ini")
	os.WriteFile(cfg, []byte(`[pipeline:main]
pipeline = tagger egg:myproject#shout myapp

[filter:tagger]
use = headers
replace X-Go = yes

[app:myapp]
use = egg:myproject
myproject.greeting = suffix

[server:main]
use = http
port = 0
`), 0o644)
	s := serve(t, cfg)
	resp, err := http.Get("http://" + s.addr + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "HELLO FROM PYRAMID, SUFFIX AT |/HELLO" || resp.Header.Get("X-Go") != "yes" {
		t.Errorf("GET /hello = %d %q, X-Go %q", resp.StatusCode, b, resp.Header.Get("X-Go"))
	}
}
