package process_test

import (
	"context"
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
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan struct{})
	var logs logbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(&cli.Env{Stdout: io.Discard, Stderr: &logs, Context: ctx, Hangup: hup}, []string{"serve", cfg})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	addr := waitFor(t, &logs, regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`))
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
