package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/internal/logbuf"
)

// TestStatusCommand serves a config whose server section opens an admin
// listener on a unix socket, sends it requests, and prints its status
// once and with --watch.
func TestStatusCommand(t *testing.T) {
	cfg := config(t, `[composite:main]
use = urlmap
/api = api
/ = root

[app:api]
use = env

[app:root]
use = env

[server:main]
use = http
port = 0
admin = unix:admin.sock
`)
	sock := filepath.Join(filepath.Dir(cfg), "admin.sock")
	logs := &logbuf.Buffer{}
	addr, s := serveBg(t, &cli.Env{}, logs, cfg)
	waitLog(t, logs, "admin listening")
	for _, p := range []string{"/api/a", "/api/b", "/"} {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	code, out, errs := run(t, "status", "unix:"+sock)
	if code != 0 {
		t.Fatalf("status exited %d: %s", code, errs)
	}
	for _, want := range []string{"· serving · ready ·", "MOUNT", "workers: none"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 7 {
			rows[f[0]] = f[5] // TOTAL
		}
	}
	if rows["/api"] != "2" || rows["/"] != "1" {
		t.Errorf("totals %v, want /api 2 and / 1:\n%s", rows, out)
	}

	code, out, errs = run(t, "status", "--json", "unix:"+sock)
	var snap struct {
		State  string `json:"state"`
		Mounts []struct {
			Name     string `json:"name"`
			Requests int    `json:"requests"`
		} `json:"mounts"`
	}
	if err := json.Unmarshal([]byte(out), &snap); code != 0 || err != nil || snap.State != "serving" || len(snap.Mounts) != 2 {
		t.Errorf("--json: exit %d, %v, %+v\n%s", code, err, snap, errs)
	}

	// --watch --count 2 refreshes twice, clearing the screen each time.
	code, out, errs = run(t, "status", "--watch", "--count", "2", "--interval", "100ms", "unix:"+sock)
	if code != 0 || strings.Count(out, "\x1b[H\x1b[2J") != 2 || strings.Count(out, "MOUNT") != 2 {
		t.Errorf("--watch --count 2: exit %d, %d refreshes:\n%q\n%s", code, strings.Count(out, "MOUNT"), out, errs)
	}

	// Without --count, --watch runs until its context ends (Ctrl-C).
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var wout bytes.Buffer
	start := time.Now()
	code = cli.Main(&cli.Env{Context: ctx, Stdout: &wout, Stderr: io.Discard}, []string{"status", "--watch", "--interval", "100ms", "unix:" + sock})
	if code != 0 || time.Since(start) > 5*time.Second || strings.Count(wout.String(), "MOUNT") < 2 {
		t.Errorf("--watch until cancelled: exit %d after %v, %d refreshes", code, time.Since(start), strings.Count(wout.String(), "MOUNT"))
	}
	stopServe(t, s, logs)
}

func TestStatusCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"status"}, 2, "want ADMIN_URL"},
		{[]string{"status", "--watch", "--interval", "1ms", "x"}, 2, "at least 100ms"},
		{[]string{"status", "unix:" + filepath.Join(t.TempDir(), "none.sock")}, 1, "gopaste status: admin:"},
	} {
		code, _, errs := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errs, tc.code, tc.err)
		}
	}
}
