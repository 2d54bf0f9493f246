package process_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/servetest"
)

// siteIni is a config serving the process app with test workers (see
// TestMain in pool_test.go) on a free port.
func siteIni(command, version string) string {
	return `[app:main]
use = process
command = ` + command + `
env GOPASTE_PROCESS_TEST_WORKER = uwsgi
env VERSION = ` + version + `
protocol = uwsgi
workers = 2
graceful_timeout = 5s

[server:main]
use = http
port = 0
`
}

// A worker that cannot start fails "gopaste serve" at start with the
// worker's stderr shown.
func TestServeFailsOnBadWorker(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "site.ini")
	os.WriteFile(cfg, []byte(strings.Replace(siteIni(os.Args[0], "1"), "= uwsgi\nenv", "= crash\nenv", 1)), 0o644)
	var stderr logbuf.Buffer
	code := cli.Main(&cli.Env{Stdout: io.Discard, Stderr: &stderr, Context: t.Context()}, []string{"serve", cfg})
	if code != 1 || !strings.Contains(stderr.String(), "ImportError: No module named 'myapp'") {
		t.Errorf("serve exited %d, want 1 with the worker's stderr:\n%s", code, stderr.String())
	}
}

// A reload whose workers cannot start keeps the old generation and its
// workers serving; a good reload replaces them and stops the old ones.
func TestServeReload(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "site.ini")
	os.WriteFile(cfg, []byte(siteIni(os.Args[0], "1")), 0o644)
	hup := make(chan struct{})
	var logs logbuf.Buffer
	addr, _ := servetest.Serve(t, &cli.Env{Hangup: hup}, &logs, cfg)
	get := func() string {
		t.Helper()
		res, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET = %d %s", res.StatusCode, b)
		}
		return string(b)
	}
	before := get()

	os.WriteFile(cfg, []byte(siteIni("/nonexistent/worker", "2")), 0o644)
	hup <- struct{}{}
	waitFor(t, &logs, regexp.MustCompile(`(?s)(reload failed).*command.*process: worker 1 .*exited before it was ready.*not found`))
	seen := map[string]bool{}
	for range 4 {
		seen[get()] = true
	}
	if !seen[before] {
		t.Errorf("after a failed reload the old workers (%s) no longer serve: %v", before, seen)
	}

	os.WriteFile(cfg, []byte(siteIni(os.Args[0], "3")), 0o644)
	hup <- struct{}{}
	waitFor(t, &logs, regexp.MustCompile(`(msg=reloaded)`))
	for range 4 {
		if got := get(); seen[got] {
			t.Errorf("after the reload an old worker (%s) still serves", got)
		}
	}
	var pid int
	for p := range seen {
		if _, err := parsePid(p, &pid); err == nil {
			deadline := time.Now().Add(10 * time.Second)
			for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if syscall.Kill(pid, 0) == nil {
				t.Errorf("old worker %d still runs after the reload", pid)
			}
		}
	}
}

func parsePid(body string, pid *int) (int, error) {
	return fmt.Sscanf(body, "pid=%d", pid)
}

// waitFor waits up to 10s for re to match the log, and returns its
// first group.
func waitFor(t *testing.T, logs *logbuf.Buffer, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("log never matched %s:\n%s", re, logs.String())
	return ""
}

// SIGTTIN and SIGTTOU (cli.Env.Workers) change the number of the
// process app's workers, as gunicorn's do; a reload goes back to the
// config's.
func TestServeWorkersSignal(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "site.ini")
	os.WriteFile(cfg, []byte(siteIni(os.Args[0], "1")), 0o644)
	hup, workers := make(chan struct{}), make(chan int)
	var logs logbuf.Buffer
	addr, _ := servetest.Serve(t, &cli.Env{Hangup: hup, Workers: workers}, &logs, cfg)
	// pids gets pages until n workers have answered, for up to 10s.
	pids := func(n int) map[string]bool {
		t.Helper()
		seen := map[string]bool{}
		for deadline := time.Now().Add(10 * time.Second); len(seen) < n && time.Now().Before(deadline); {
			res, err := http.Get("http://" + addr + "/?ms=20")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			seen[string(b)] = true
		}
		return seen
	}
	workers <- 1
	waitFor(t, &logs, regexp.MustCompile(`msg="workers changed" component=app:main workers=(3) by=1`))
	if seen := pids(3); len(seen) != 3 {
		t.Errorf("after SIGTTIN requests went to %v, want 3 workers", seen)
	}
	workers <- -1
	workers <- -1
	waitFor(t, &logs, regexp.MustCompile(`msg="workers changed" component=app:main workers=(1) by=-1`))
	workers <- -1
	waitFor(t, &logs, regexp.MustCompile(`msg="changing the number of workers" workers=\[(1)\] err=.*the last one stays`))
	hup <- struct{}{}
	waitFor(t, &logs, regexp.MustCompile(`(msg=reloaded)`))
	if seen := pids(2); len(seen) != 2 {
		t.Errorf("after the reload requests went to %v, want the config's 2 workers", seen)
	}
}
