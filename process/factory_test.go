package process

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/admin"
	_ "github.com/gopaste/gopaste/apps/urlmap" // the composite of TestBrokenConfigStartsNoWorker
	"github.com/gopaste/gopaste/deploy"
)

// build writes ini (with TESTBIN standing for the test binary) and
// builds its app main.
func build(t *testing.T, ini string) (*deploy.App, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "site.ini")
	ini = strings.ReplaceAll(ini, "TESTBIN", os.Args[0])
	if err := os.WriteFile(path, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	app, err := deploy.BuildApp(path, "main", deploy.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Cleanup(func() { app.Close() })
	}
	return app, err
}

func TestFactory(t *testing.T) {
	app, err := build(t, `
[app:main]
use = process
command = TESTBIN
env `+workerEnv+` = uwsgi
protocol = uwsgi
workers = 2
concurrency = 2
max_requests = 100
timeout = 5s
hard_timeout = 10s
stack_signal = quit
stop_signal = INT
graceful_timeout = 5s
`)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(app.Handler, "/"); code != 200 || !strings.HasPrefix(body, "pid=") {
		t.Errorf("GET = %d %q", code, body)
	}
	src := AdminSource{app.Handler.(interface{ Unwrap() http.Handler }).Unwrap().(*Pool)}
	h := admin.NewHub()
	h.AddSource("main", src)
	snap := h.Snapshot()
	if len(snap.Workers) != 2 || snap.Workers[0].Pool != "main" || snap.Workers[0].RSS == 0 || snap.Workers[0].Started.IsZero() {
		t.Errorf("admin snapshot workers = %+v", snap.Workers)
	}
	if err := src.Ready(); err != nil {
		t.Errorf("Ready = %v", err)
	}
}

func TestFactoryErrors(t *testing.T) {
	for _, tc := range []struct{ name, keys, want string }{
		{"protocol", "command = TESTBIN\nprotocol = gopher", `site.ini:5: [app:main]: key "protocol": "gopher" is not one of http, scgi, uwsgi, fastcgi`},
		{"signal", "command = TESTBIN\nstack_signal = BOGUS", `key "stack_signal": "BOGUS" is not a signal name`},
		{"concurrency", "command = TESTBIN\nconcurrency = 0", `key "concurrency": must be at least 1`},
		{"max_queue", "command = TESTBIN\nmax_queue = -1", `key "max_queue": must not be negative`},
		{"quote", "command = TESTBIN 'oops", `key "command": unterminated ' quote`},
		{"missing command", "workers = 1", `"command"`},
		{"bad command", "command = /nonexistent/app --serve", `site.ini:4: [app:main]: key "command": process: worker 1`},
		{"crash", "command = TESTBIN\nenv " + workerEnv + " = crash", `ImportError: No module named 'myapp'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, "\n[app:main]\nuse = process\n"+tc.keys+"\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q in it", err, tc.want)
			}
		})
	}
}

// As root, user runs the workers as that user.
func TestUser(t *testing.T) {
	ini := `
[app:main]
use = process
workers = 1
user = nobody
command = /usr/bin/python3 -c '
    import os, socket, http.server
    H = type("H", (http.server.BaseHTTPRequestHandler,), {"log_message": lambda *a: None,
        "do_GET": lambda h: (h.send_response(200), h.end_headers(), h.wfile.write(b"uid=" + str(os.getuid()).encode()))})
    srv = http.server.HTTPServer(("", 0), H, bind_and_activate=False)
    srv.socket = socket.socket(fileno=3)
    srv.serve_forever()
    '
`
	app, err := build(t, ini)
	if os.Geteuid() != 0 {
		if err == nil || !strings.Contains(err.Error(), "need gopaste to run as root") {
			t.Errorf("error = %v, want that user needs root", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(app.Handler, "/"); code != 200 || body != "uid=65534" {
		t.Errorf("GET = %d %q, want uid=65534 (nobody)", code, body)
	}
}

// TestCheckStartsNoWorker (issue 10): gopaste check (deploy.Check)
// builds the process app without starting its command, but still finds
// a missing command; a real build starts it.
func TestCheckStartsNoWorker(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "started")
	script := filepath.Join(dir, "worker.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ini := func(command string) string {
		p := filepath.Join(t.TempDir(), "site.ini")
		body := "[app:main]\nuse = process\ncommand = " + command + "\nworkers = 2\nstartup_timeout = 200ms\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	opts := deploy.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rep, err := deploy.Check(ini(script), opts)
	if err != nil || len(rep.Errs) > 0 {
		t.Fatalf("check: %v %v", err, rep.Errs)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("gopaste check started the worker's command")
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), "gopaste-no-such-command"} {
		rep, err := deploy.Check(ini(bad), opts)
		if err != nil || len(rep.Errs) == 0 || !strings.Contains(rep.Errs[0].Error(), "missing") && !strings.Contains(rep.Errs[0].Error(), "not found") {
			t.Errorf("check of command %s: %v %v, want an error naming it", bad, err, rep)
		}
	}
	// The control: building to serve starts it (and fails: it never
	// listens).
	if app, err := deploy.BuildApp(ini(script), "main", opts); err == nil {
		app.Close()
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("a build to serve did not start the command: %v", err)
	}
}

// TestBrokenConfigStartsNoWorker: a config with an error beside a
// process app starts none of its workers (they start once the whole
// config has built: registry.Config.OnStart), at start as on a reload.
func TestBrokenConfigStartsNoWorker(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "started")
	_, err := build(t, `
[composite:main]
use = urlmap
/ = work
/x = broken

[app:work]
use = process
command = /bin/sh -c "touch `+mark+`; exec sleep 30"
workers = 1

[app:broken]
use = process
workers = 1
`)
	if err == nil || !strings.Contains(err.Error(), `[app:broken]: key "command"`) {
		t.Fatalf("build: %v, want the broken section's error", err)
	}
	time.Sleep(200 * time.Millisecond) // a worker started would have run by now
	if _, err := os.Stat(mark); err == nil {
		t.Error("the process app's worker started in a config that did not build")
	}
}
