package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/logbuf"
)

// The tests of issue 10's prefork model, reloads and upgrades: the built
// binary on loopback, with bounded load loops (see load_test.go).

func preforkConfig(body, extra string) string {
	return "[app:main]\nuse = text\nbody = " + body + "\n\n[server:main]\nuse = http\nport = 0\nconcurrency = prefork\nworkers = 2\ngraceful_timeout = 10s\n" + extra
}

var workerReadyRe = regexp.MustCompile(`msg="worker ready" worker=(\d+) pid=(\d+)`)

// workerPids returns the pid of each worker slot's latest worker.
func workerPids(s *served) map[int]int {
	out := map[int]int{}
	for _, m := range workerReadyRe.FindAllStringSubmatch(s.logs.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		pid, _ := strconv.Atoi(m[2])
		out[n] = pid
	}
	return out
}

// waitForLogCount waits until substr appears n times in s's log.
func waitForLogCount(t *testing.T, s *served, substr string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(s.logs.String(), substr) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q %d times:\n%s", substr, n, s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitExit waits for the served process to exit 0.
func waitExit(t *testing.T, s *served) {
	t.Helper()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("gopaste serve exited with %v\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("gopaste serve did not exit\n%s", s.logs)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for pidAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func body(want string) func(string) bool { return func(b string) bool { return b == want } }

// TestPreforkReplacesKilledWorker: two workers serve; one killed with
// SIGKILL under load is replaced, and only the requests that worker had
// accepted may fail (at most one per client; with keep-alive the client
// retries an idempotent GET on a reused connection itself). The master
// stops both on SIGTERM.
func TestPreforkReplacesKilledWorker(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), preforkConfig("hello", ""))
	s := serve(t, cfg)
	waitForLogCount(t, s, `msg="worker ready"`, 2)
	pids := workerPids(s)
	if len(pids) != 2 || pids[1] == pids[2] || !pidAlive(pids[1]) || !pidAlive(pids[2]) {
		t.Fatalf("workers %v, want two running\n%s", pids, s.logs)
	}
	const clients = 4
	ld := startLoad(t, "http://"+s.addr+"/", clients, body("hello"))
	ld.waitRequests(t, 200)
	syscall.Kill(pids[1], syscall.SIGKILL)
	waitForLogCount(t, s, `msg="worker exited"`, 1)
	waitForLogCount(t, s, `msg="worker ready"`, 3)
	ld.waitRequests(t, 200)
	ok, failed, refused, errs := ld.results()
	t.Logf("kill -9 of a worker under load: %d ok, %d failed (%d refused); errors: %q", ok, failed, refused, errs)
	if refused > 0 || failed > clients {
		t.Errorf("%d failed, %d refused; want at most %d failed (the killed worker's in-flight requests) and none refused", failed, refused, clients)
	}
	now := workerPids(s)
	if now[1] == pids[1] || now[2] != pids[2] || !pidAlive(now[1]) {
		t.Errorf("workers %v after killing %d (were %v)", now, pids[1], pids)
	}
	if !strings.Contains(s.logs.String(), "killed by") {
		t.Errorf("the log does not say how the worker died:\n%s", s.logs)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
	for _, pid := range now {
		waitGone(t, pid)
	}
}

// TestPreforkMaxRequestsRecycles (issue 10): workers recycled every
// 50-60 requests under load drop nothing: each replacement is ready
// before the old worker stops accepting and drains.
func TestPreforkMaxRequestsRecycles(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), preforkConfig("hello", "max_requests = 50\nmax_requests_jitter = 10\n"))
	s := serve(t, cfg)
	waitForLogCount(t, s, `msg="worker ready"`, 2)
	ld := startLoad(t, "http://"+s.addr+"/", 4, body("hello"))
	ld.waitRequests(t, 3000)
	ok, failed, refused, errs := ld.results()
	recycled := strings.Count(s.logs.String(), `msg="worker retired"`)
	t.Logf("max_requests = 50 under load: %d ok, %d failed (%d refused), %d workers recycled; errors: %q", ok, failed, refused, recycled, errs)
	if failed > 0 {
		t.Errorf("%d requests failed across recycles: %q", failed, errs)
	}
	if recycled < 5 {
		t.Errorf("%d workers recycled after %d requests, want at least 5\n%s", recycled, ok, s.logs)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
}

// TestReloadUnderLoad (issue 10): ten SIGHUP reloads, each with a
// changed config, under load: no request fails, each new config serves
// once its reload is logged, and the p99 latency during the reloads is
// logged beside the steady state's, with their ratio. The ratio is not
// asserted: on a shared 2-core machine one run's p99 is mostly noise;
// the bench scenarios reload-under-load and reload-under-load-prefork
// hold the figure (goal ≤ 2×), over rounds.
func TestReloadUnderLoad(t *testing.T) {
	for _, conc := range []string{"threaded", "prefork"} {
		t.Run(conc, func(t *testing.T) {
			dir := t.TempDir()
			conf := func(v int) string {
				extra := ""
				if conc == "threaded" {
					return "[app:main]\nuse = text\nbody = v" + strconv.Itoa(v) + "\n\n[server:main]\nuse = http\nport = 0\n"
				}
				return preforkConfig("v"+strconv.Itoa(v), extra)
			}
			cfg := writeConfig(t, dir, conf(0))
			s := serve(t, cfg)
			if conc == "prefork" {
				waitForLogCount(t, s, `msg="worker ready"`, 2)
			}
			url := "http://" + s.addr + "/"
			ld := startLoad(t, url, 4, func(b string) bool { return strings.HasPrefix(b, "v") })
			// A steady window of a few thousand requests: its p99 is
			// not decided by a handful of them.
			ld.waitRequests(t, 200) // connections open, workers warm
			steady := time.Now()
			ld.waitRequests(t, 3000)
			reloading := time.Now()
			for i := 1; i <= 10; i++ {
				writeConfig(t, dir, conf(i))
				s.cmd.Process.Signal(syscall.SIGHUP)
				waitForLogCount(t, s, "msg=reloaded", i)
				// An old prefork worker answers what it accepted before it
				// stopped accepting, and its open connections.
				waitFor(t, func() bool { return getFresh(t, url) == "v"+strconv.Itoa(i) }, s)
			}
			done := time.Now()
			p99Steady, n1 := ld.p99(steady, reloading)
			p99Reload, n2 := ld.p99(reloading, done)
			ok, failed, refused, errs := ld.results()
			ratio := 0.0
			if p99Steady > 0 {
				ratio = float64(p99Reload) / float64(p99Steady)
			}
			t.Logf("10 reloads (%s) under load: %d ok, %d failed (%d refused); p99 steady %v (%d requests), during reloads %v (%d requests, %v): %.2f× steady",
				conc, ok, failed, refused, p99Steady, n1, p99Reload, n2, done.Sub(reloading).Round(time.Millisecond), ratio)
			if failed > 0 {
				t.Errorf("%d requests failed during reloads: %q", failed, errs)
			}
			s.cmd.Process.Signal(syscall.SIGTERM)
			waitExit(t, s)
		})
	}
}

// TestUpgradeUnderLoad (issue 10): "gopaste restart PIDFILE" (SIGUSR2)
// under load, after the binary was replaced on disk: the new process
// takes over the listener and the pid file, the old one drains and
// exits, no request fails and no connection is refused. "gopaste stop"
// then stops the new one.
func TestUpgradeUnderLoad(t *testing.T) {
	for _, conc := range []string{"threaded", "prefork"} {
		t.Run(conc, func(t *testing.T) {
			dir := t.TempDir()
			exe := filepath.Join(dir, "gopaste")
			copyFile(t, gopasteBinary(t), exe)
			text := "[app:main]\nuse = text\nbody = hello\n\n[server:main]\nuse = http\nport = 0\n"
			if conc == "prefork" {
				text = preforkConfig("hello", "")
			}
			cfg := writeConfig(t, dir, text)
			pidfile := filepath.Join(dir, "gopaste.pid")
			s := serveBinary(t, exe, cfg, "--pidfile", pidfile)
			old := s.cmd.Process.Pid
			waitFor(t, func() bool { pid, _ := readPid(pidfile); return pid == old }, s)
			t.Cleanup(func() { // the new process is no child of the test
				if pid, err := readPid(pidfile); err == nil && pid != old && pidAlive(pid) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			if conc == "prefork" {
				waitForLogCount(t, s, `msg="worker ready"`, 2)
			}
			ld := startLoad(t, "http://"+s.addr+"/", 4, body("hello"))
			ld.waitRequests(t, 300)
			// A new binary is installed the usual way: renamed over the old.
			copyFile(t, gopasteBinary(t), exe+".new")
			if err := os.Rename(exe+".new", exe); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(exe, "restart", pidfile).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "restarted:") {
				t.Fatalf("gopaste restart: %v %s\n%s", err, out, s.logs)
			}
			newPid, err := readPid(pidfile)
			if err != nil || newPid == old || !pidAlive(newPid) {
				t.Fatalf("pid file holds %d (%v) after the upgrade from %d", newPid, err, old)
			}
			waitGone(t, old)
			ld.waitRequests(t, 300)
			ok, failed, refused, errs := ld.results()
			t.Logf("upgrade (%s) under load: %d ok, %d failed, %d refused; errors: %q", conc, ok, failed, refused, errs)
			if failed > 0 || refused > 0 {
				t.Errorf("%d failed, %d refused across the upgrade: %q", failed, refused, errs)
			}
			out, err = exec.Command(exe, "stop", pidfile).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "stopped "+strconv.Itoa(newPid)) {
				t.Errorf("gopaste stop: %v %s", err, out)
			}
			waitGone(t, newPid)
			if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
				t.Errorf("pid file left after stop: %v", err)
			}
		})
	}
}

// TestStopDrains: "gopaste stop PIDFILE" lets a request in flight on a
// prefork worker finish, and returns once the server has exited.
func TestStopDrains(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "[app:main]\nuse = env\n\n[server:main]\nuse = http\nport = 0\nconcurrency = prefork\nworkers = 1\n")
	pidfile := filepath.Join(dir, "gopaste.pid")
	s := serve(t, cfg, "--pidfile", pidfile)
	waitForLogCount(t, s, `msg="worker ready"`, 1)
	stop := exec.Command(gopasteBinary(t), "stop", pidfile)
	var out logbuf.Buffer
	stop.Stdout, stop.Stderr = &out, &out
	checkDrains(t, s, "/slow", func() {
		if err := stop.Start(); err != nil {
			t.Fatal(err)
		}
	})
	if err := stop.Wait(); err != nil || !strings.Contains(out.String(), "stopped") {
		t.Errorf("gopaste stop: %v %s", err, out.String())
	}
	waitExit(t, s)
}

// TestPreforkReloadCommands: "gopaste reload PIDFILE" with a broken
// config keeps the workers serving the old one and says why in the log;
// touching reload_file after a fix reloads.
func TestPreforkReloadCommands(t *testing.T) {
	dir := t.TempDir()
	touch := filepath.Join(dir, "reload")
	cfg := writeConfig(t, dir, preforkConfig("one", "reload_file = reload\n"))
	pidfile := filepath.Join(dir, "gopaste.pid")
	s := serve(t, cfg, "--pidfile", pidfile)
	waitForLogCount(t, s, `msg="worker ready"`, 2)
	pids := workerPids(s)
	url := "http://" + s.addr + "/"

	writeConfig(t, dir, preforkConfig("two", "reload_file = reload\nmax_concurency = 3\n"))
	out, err := exec.Command(gopasteBinary(t), "reload", pidfile).CombinedOutput()
	if err != nil {
		t.Fatalf("gopaste reload: %v %s", err, out)
	}
	waitForLog(t, s, "reload failed; still serving the previous config")
	waitForLog(t, s, `unknown key \"max_concurency\"`)
	for range 10 {
		if code, got := get(t, url); code != 200 || got != "one" {
			t.Fatalf("after a broken reload: %d %q", code, got)
		}
	}
	if now := workerPids(s); fmt.Sprint(now) != fmt.Sprint(pids) {
		t.Errorf("workers %v after a broken reload, want %v kept", now, pids)
	}

	writeConfig(t, dir, preforkConfig("two", "reload_file = reload\n"))
	if err := os.WriteFile(touch, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, s, "msg=reloaded reason=\"touched "+touch+"\"")
	waitFor(t, func() bool { return getFresh(t, url) == "two" }, s)
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
}

// pidsAfter sends sig to s and returns the pids of the next log line
// that re (its first group: "[1 2 3]"'s inside) matches.
func pidsAfter(t *testing.T, s *served, sig syscall.Signal, re *regexp.Regexp) []int {
	t.Helper()
	before := len(re.FindAllString(s.logs.String(), -1))
	s.cmd.Process.Signal(sig)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if ms := re.FindAllStringSubmatch(s.logs.String(), -1); len(ms) > before {
			var pids []int
			for _, f := range strings.Fields(ms[len(ms)-1][1]) {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: no log line %q\n%s", sig, re, s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPreforkReloadChangesWorkers: a reload whose config asks for
// another number of workers starts or stops workers to match, as
// gunicorn's HUP does; the workers all serve the new config.
func TestPreforkReloadChangesWorkers(t *testing.T) {
	dir := t.TempDir()
	config := func(body string, workers int) string {
		return fmt.Sprintf("[app:main]\nuse = text\nbody = %s\n\n[server:main]\nuse = http\nport = 0\n"+
			"concurrency = prefork\nworkers = %d\ngraceful_timeout = 10s\n", body, workers)
	}
	cfg := writeConfig(t, dir, config("two", 2))
	s := serve(t, cfg)
	waitForLogCount(t, s, `msg="worker ready"`, 2)
	url := "http://" + s.addr + "/"
	reloaded := regexp.MustCompile(`msg=reloaded .*workers="?\[([0-9 ]+)\]`) // quoted when more than one
	reload := func() []int { return pidsAfter(t, s, syscall.SIGHUP, reloaded) }

	writeConfig(t, dir, config("three", 3))
	three := reload()
	if len(three) != 3 {
		t.Fatalf("workers %v after reloading with workers = 3\n%s", three, s.logs)
	}
	for _, pid := range three {
		if !pidAlive(pid) {
			t.Errorf("worker %d of %v is not running", pid, three)
		}
	}
	waitFor(t, func() bool { return getFresh(t, url) == "three" }, s)

	writeConfig(t, dir, config("one", 1))
	one := reload()
	if len(one) != 1 || !pidAlive(one[0]) {
		t.Fatalf("workers %v after reloading with workers = 1\n%s", one, s.logs)
	}
	for _, pid := range three {
		if pid != one[0] {
			waitGone(t, pid)
		}
	}
	for range 5 {
		if code, got := get(t, url); code != 200 || got != "one" {
			t.Fatalf("after the reload to one worker: %d %q", code, got)
		}
	}
	if strings.Contains(s.logs.String(), "gopaste restart (SIGUSR2) applies") {
		t.Errorf("the log asks for a restart for a change of workers:\n%s", s.logs)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
	waitGone(t, one[0])
}

// TestPreforkTTINTTOU: SIGTTIN starts one worker more and SIGTTOU stops
// one, as with gunicorn, under load and without failing a request (a
// worker taken away drains as on a reload); the last worker stays.
func TestPreforkTTINTTOU(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), preforkConfig("hello", ""))
	s := serve(t, cfg)
	waitForLogCount(t, s, `msg="worker ready"`, 2)
	ld := startLoad(t, "http://"+s.addr+"/", 4, body("hello"))
	ld.waitRequests(t, 200)
	changed := regexp.MustCompile(`msg="workers changed" workers="?\[([0-9 ]+)\]`) // quoted when more than one
	signal := func(sig syscall.Signal, want int) []int {
		t.Helper()
		pids := pidsAfter(t, s, sig, changed)
		if len(pids) != want {
			t.Fatalf("%v: workers %v, want %d\n%s", sig, pids, want, s.logs)
		}
		return pids
	}
	three := signal(syscall.SIGTTIN, 3)
	ld.waitRequests(t, 200)
	signal(syscall.SIGTTOU, 2)
	one := signal(syscall.SIGTTOU, 1)
	waitGone(t, three[1])
	waitGone(t, three[2])
	ld.waitRequests(t, 200)
	ok, failed, refused, errs := ld.results()
	t.Logf("SIGTTIN and two SIGTTOU under load: %d ok, %d failed (%d refused); errors: %q", ok, failed, refused, errs)
	if failed > 0 || refused > 0 {
		t.Errorf("%d requests failed (%d refused) while workers came and went", failed, refused)
	}
	s.cmd.Process.Signal(syscall.SIGTTOU)
	waitForLog(t, s, "the last worker stays")
	if code, got := get(t, "http://"+s.addr+"/"); code != 200 || got != "hello" {
		t.Errorf("with one worker: %d %q", code, got)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
	waitGone(t, one[0])
}

// TestServeSystemdSocket: with LISTEN_FDS set, as systemd's socket
// activation does, serve takes its listener from fd 3 instead of opening
// the configured address; a connection made before it started waits in
// the socket's backlog and is answered.
func TestServeSystemdSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	early := make(chan string, 1)
	go func() { // before the server starts
		c := &http.Client{Timeout: 20 * time.Second}
		resp, err := c.Get("http://" + l.Addr().String() + "/")
		if err != nil {
			early <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		early <- string(b)
	}()
	for _, conc := range []string{"threaded", "prefork"} {
		cfg := writeConfig(t, t.TempDir(), "[app:main]\nuse = text\nbody = socket\n\n[server:main]\nuse = http\nport = 0\nconcurrency = "+conc+"\n")
		cmd := exec.Command(gopasteBinary(t), "serve", cfg)
		cmd.Env = append(os.Environ(), "LISTEN_FDS=1")
		cmd.ExtraFiles = []*os.File{f}
		var logs logbuf.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s := &served{cmd: cmd, logs: &logs, done: reap(t, cmd, nil), addr: l.Addr().String()}
		if conc == "threaded" {
			if got := <-early; got != "socket" {
				t.Errorf("the request made before serve started got %q", got)
			}
		}
		waitFor(t, func() bool { code, got := get(t, "http://"+s.addr+"/"); return code == 200 && got == "socket" }, s)
		if !strings.Contains(logs.String(), "serving the socket systemd passed") {
			t.Errorf("%s: the log does not say the socket came from systemd:\n%s", conc, logs.String())
		}
		cmd.Process.Signal(syscall.SIGTERM)
		waitExit(t, s)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// getFresh GETs url on a new connection and returns the body of a 200.
func getFresh(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return ""
	}
	return string(b)
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// TestUpgradeFailureKeepsServing: when the new process cannot start
// serving (its config is broken now), "gopaste restart" fails and says
// so, and the old process goes on serving with its pid in the pid file.
func TestUpgradeFailureKeepsServing(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "[app:main]\nuse = text\nbody = old\n\n[server:main]\nuse = http\nport = 0\n")
	pidfile := filepath.Join(dir, "gopaste.pid")
	s := serve(t, cfg, "--pidfile", pidfile)
	old := s.cmd.Process.Pid
	waitFor(t, func() bool { pid, _ := readPid(pidfile); return pid == old }, s)
	writeConfig(t, dir, "[app:main]\nuse = nosuchapp\n\n[server:main]\nuse = http\nport = 0\n")
	out, err := exec.Command(gopasteBinary(t), "restart", pidfile).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "the upgrade failed") {
		t.Errorf("gopaste restart with a broken config: %v %s", err, out)
	}
	waitForLog(t, s, "upgrade failed; still serving")
	if code, got := get(t, "http://"+s.addr+"/"); code != 200 || got != "old" {
		t.Errorf("after a failed upgrade: %d %q", code, got)
	}
	if pid, err := readPid(pidfile); err != nil || pid != old {
		t.Errorf("pid file holds %d (%v), want %d", pid, err, old)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, s)
}
