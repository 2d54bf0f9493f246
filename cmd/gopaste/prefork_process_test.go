package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
)

// A prefork master builds its config check-only: a process app's
// workers start in the prefork workers only, never in the master (which
// used to start them and stop them at once). Each Python worker writes
// its parent's pid to a marker file.
func TestPreforkProcessAppStartsInWorkersOnly(t *testing.T) {
	py := peer.Require(t, "python3")
	dir := t.TempDir()
	starts := filepath.Join(dir, "starts")
	cfg := writeConfig(t, dir, `
[app:main]
use = process
workers = 1
command = `+py+` -c '
    import os, socket, http.server
    open("`+starts+`", "a").write(str(os.getppid()) + "\n")
    H = type("H", (http.server.BaseHTTPRequestHandler,), {"log_message": lambda *a: None,
        "do_GET": lambda h: (h.send_response(200), h.end_headers(), h.wfile.write(b"py"))})
    srv = http.server.HTTPServer(("", 0), H, bind_and_activate=False)
    srv.socket = socket.socket(fileno=3)
    srv.serve_forever()
    '

[server:main]
use = http
port = 0
concurrency = prefork
workers = 2
graceful_timeout = 5s
`)
	s := serve(t, cfg)
	waitForLogCount(t, s, `msg="worker ready"`, 2)
	if code, b := get(t, "http://"+s.addr+"/"); code != 200 || b != "py" {
		t.Errorf("GET = %d %q, want 200 py", code, b)
	}
	read := func() (parents []int) {
		data, _ := os.ReadFile(starts)
		for _, f := range strings.Fields(string(data)) {
			n, _ := strconv.Atoi(f)
			parents = append(parents, n)
		}
		return parents
	}
	waitFor(t, func() bool { return len(read()) >= 2 }, s)
	time.Sleep(200 * time.Millisecond) // a late start would show
	parents := read()
	pids := workerPids(s)
	for _, p := range parents {
		if p == s.cmd.Process.Pid {
			t.Errorf("the master (pid %d) started a Python worker; parents %v", p, parents)
		} else if !slices.Contains([]int{pids[1], pids[2]}, p) {
			t.Errorf("a Python worker's parent %d is no prefork worker %v", p, pids)
		}
	}
	if len(parents) != 2 {
		t.Errorf("%d Python workers started (parents %v), want one per prefork worker", len(parents), parents)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
}
