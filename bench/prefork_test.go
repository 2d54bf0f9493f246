package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/uwsgi"
)

// buildWorker builds bench/uwsgiworker into dir, as the harness does.
func buildWorker(t *testing.T, dir string) {
	t.Helper()
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := goBuild(ctx, root, filepath.Join(dir, "uwsgiworker"), "./bench/uwsgiworker"); err != nil {
		t.Fatal(err)
	}
}

// Every gopaste config of issue 10's scenarios passes gopaste check (the
// process app looks its command up, so the worker is built first), the
// prefork ones with their server keys, the reloading one at every
// generation.
func TestPreforkScenariosGopasteCheck(t *testing.T) {
	dir := t.TempDir()
	buildWorker(t, dir)
	d := tmplData{Dir: dir, Port: 18099, Bin: dir}
	names := map[string]bool{}
	for _, sc := range preforkScenarios {
		names[sc.Name] = true
		parts := gopasteParts(sc)
		if len(parts) == 0 {
			t.Errorf("%s: no gopaste system", sc.Name)
		}
		for i, s := range parts {
			for gen := 0; gen < 2; gen++ {
				d.Gen = gen
				config, err := s.gopasteConfig(d)
				if err != nil {
					t.Fatalf("%s: %v", sc.Name, err)
				}
				if err := checkGopaste(t, dir, sc.Name+"-"+role(i), config); err != nil {
					t.Errorf("%s: %s: gopaste check: %v\n%s", sc.Name, s.Name, err, config)
				}
				if s.ServerKeys != "" && !strings.Contains(config, "port = 18099\nconcurrency = prefork\nworkers = 2\n") {
					t.Errorf("%s: server keys not in the server section:\n%s", sc.Name, config)
				}
				if s.Reload > 0 && !strings.Contains(config, "body = Hello, World! "+strconv.Itoa(gen)+"\n") {
					t.Errorf("%s: generation %d not in the config:\n%s", sc.Name, gen, config)
				}
			}
		}
	}
	for _, want := range []string{"prefork-hello", "process-uwsgi", "reload-under-load", "reload-under-load-prefork", "prefork-memory"} {
		if !names[want] {
			t.Errorf("no scenario %s", want)
		}
	}
	// A prefork key the server does not take fails the check.
	bad := prefork(gopasteSystem("bad", textApp))
	bad.ServerKeys += "workerz = 2\n"
	config, _ := bad.gopasteConfig(d)
	if err := checkGopaste(t, dir, "bad", config); err == nil {
		t.Errorf("an unknown server key passed gopaste check:\n%s", config)
	}
}

func TestPreforkScenariosShape(t *testing.T) {
	byName := map[string]Scenario{}
	for _, sc := range preforkScenarios {
		byName[sc.Name] = sc
	}
	if sc := byName["process-uwsgi"]; sc.B.Upstream == nil || sc.B.Upstream.Instances != 2 ||
		!strings.Contains(sc.A.Gopaste, "workers = 2") || !strings.Contains(sc.A.Gopaste, "protocol = uwsgi") {
		t.Errorf("process-uwsgi: A and B do not both run 2 uwsgi workers: %+v", sc)
	}
	if g := byName["process-uwsgi"].Goal; g.MinRPSRatio != 1.0 || g.MaxP99Ratio != 1.0 {
		t.Errorf("process-uwsgi goal %+v", g)
	}
	if sc := byName["reload-under-load"]; sc.A.Reload != time.Second || sc.B.Reload != 0 || !sc.Goal.NoFailures {
		t.Errorf("reload-under-load: A reloads every %v, B every %v, goal %+v", sc.A.Reload, sc.B.Reload, sc.Goal)
	}
	if sc := byName["reload-under-load-prefork"]; sc.A.Reload != time.Second || sc.B.Reload != 0 || !sc.Goal.NoFailures ||
		sc.Goal.MaxP99Ratio != 2.0 || sc.A.ServerKeys != sc.B.ServerKeys || !strings.Contains(sc.A.ServerKeys, "concurrency = prefork") {
		t.Errorf("reload-under-load-prefork: A and B are not the same prefork server, reloading every second vs not, goal %+v: %+v", sc.Goal, sc)
	}
	if sc := byName["prefork-memory"]; sc.Kind != Memory || !strings.Contains(sc.A.ServerKeys, "concurrency = prefork") {
		t.Errorf("prefork-memory: %+v", sc)
	}
}

// The nginx side of process-uwsgi lists every instance of its upstream.
func TestUpstreamsInNginxConfig(t *testing.T) {
	var sys System
	for _, sc := range preforkScenarios {
		if sc.Name == "process-uwsgi" {
			sys = sc.B
		}
	}
	conf, err := nginxConfig(sys.Nginx, tmplData{Dir: "/tmp/x", Port: 8081, Upstreams: []string{"127.0.0.1:1", "127.0.0.1:2"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"server 127.0.0.1:1;", "server 127.0.0.1:2;", "uwsgi_pass workers;"} {
		if !strings.Contains(conf, want) {
			t.Errorf("nginx config lacks %q:\n%s", want, conf)
		}
	}
}

// uwsgiGet sends GET / over uwsgi to addr and returns the body.
func uwsgiGet(t *testing.T, addr string) string {
	t.Helper()
	c := &http.Client{Transport: &uwsgi.Transport{Addr: addr}, Timeout: 5 * time.Second}
	res, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Errorf("%s: status %d", addr, res.StatusCode)
	}
	return string(b)
}

// startInstances starts two workers on their own ports, chained so that
// the first one's pgids, alive and stop cover both; each answers the
// 14-byte hello over uwsgi.
func TestStartInstances(t *testing.T) {
	dir := t.TempDir()
	buildWorker(t, dir)
	r := &runner{tmp: dir, bin: dir}
	first, err := r.startInstances(uwsgiWorkers(2), "x-up", tmplData{Dir: dir, Bin: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer first.stop()
	if first.up == nil || first.up.up != nil || first.addr() == first.up.addr() {
		t.Fatalf("instances not chained: %+v", first)
	}
	if g := first.pgids(); len(g) != 2 {
		t.Errorf("pgids %v; want 2", g)
	}
	for u := first; u != nil; u = u.up {
		if got := uwsgiGet(t, u.addr()); got != "Hello, World!\n" {
			t.Errorf("%s: body %q", u.addr(), got)
		}
	}
	second := first.up
	first.stop()
	if err := second.alive(); err == nil {
		t.Error("the second instance runs after stop")
	}
}

// The worker serves the socket it inherits as fd 3, as the process app
// passes it, rather than its -addr.
func TestUWSGIWorkerInheritsSocket(t *testing.T) {
	dir := t.TempDir()
	buildWorker(t, dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(filepath.Join(dir, "uwsgiworker"), "-addr", "256.0.0.1:1")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = append(os.Environ(), "LISTEN_FDS=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if got := uwsgiGet(t, l.Addr().String()); got != "Hello, World!\n" {
		t.Errorf("body %q", got)
	}
}

// A reloading system gets its config rewritten with the next generation
// and a SIGHUP at each tick; the process here ignores SIGHUP.
func TestReloader(t *testing.T) {
	dir := t.TempDir()
	p, err := startProc("hup", []string{"/bin/sh", "-c", `trap "" HUP; sleep 30`}, dir, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	sys := reloading(gopasteSystem("r", reloadApp), 50*time.Millisecond)
	s := &started{sys: sys, p: p, file: filepath.Join(dir, "a.ini"), data: tmplData{Dir: dir, Port: 1}}
	rl := s.startReloads()
	time.Sleep(400 * time.Millisecond)
	n, err := rl.stop()
	if err != nil || n < 2 {
		t.Fatalf("%d reloads, %v", n, err)
	}
	b, _ := os.ReadFile(s.file)
	if !strings.Contains(string(b), "body = Hello, World! "+strconv.Itoa(n)+"\n") {
		t.Errorf("after %d reloads the config is\n%s", n, b)
	}
	if p.exited() {
		t.Error("the process died of a SIGHUP it ignores")
	}
	if rl := (&started{sys: gopasteSystem("x", textApp)}).startReloads(); rl != nil {
		t.Error("a system without Reload reloads")
	}
	var none *reloader
	if n, err := none.stop(); n != 0 || err != nil {
		t.Errorf("nil reloader: %d, %v", n, err)
	}
}

// A descendant in a process group of its own (a prefork worker, a
// process app worker) counts as the system's: for CPU, RSS, and the
// per-process memory table.
func TestGroupStatsTakesDescendants(t *testing.T) {
	setsid, err := exec.LookPath("setsid")
	if err != nil {
		t.Fatal("setsid (util-linux) missing")
	}
	dir := t.TempDir()
	p, err := startProc("tree", []string{"/bin/sh", "-c", setsid + " sleep 30 & wait"}, dir, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	var child int
	for i := 0; i < 100 && child == 0; i++ {
		for pid, stat := range groupStats(p.pid()) {
			if g, _ := statPGRP(stat); g != p.pid() && pid != p.pid() {
				child = pid
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("the child in its own group is not among the system's processes")
	}
	defer syscall.Kill(child, syscall.SIGKILL) // its own group: p.stop misses it
	s := &started{p: p}
	pm := s.procMem()
	if len(pm) != 2 || pm[0].Role != "master" || pm[0].PID != p.pid() || pm[1].PID != child || pm[1].IdleRSS <= 0 {
		t.Errorf("procMem %+v; want the shell as master and %d", pm, child)
	}
}

func TestJudgeNoFailures(t *testing.T) {
	for _, tc := range []struct {
		failed int64
		met    bool
	}{{0, true}, {3, false}} {
		res := Result{Kind: Compare, Goal: Goal{NoFailures: true},
			Systems: []SystemResult{{Role: "A", Name: "a", Failed: tc.failed, Reloads: 5, Runs: []Run{{}}}, {Name: "b"}}}
		judge(&res)
		if res.Met == nil || *res.Met != tc.met || !strings.Contains(res.Verdict, "failed requests over 5 reloads") {
			t.Errorf("%d failed: met %v, verdict %q", tc.failed, res.Met, res.Verdict)
		}
		out := textTable(res)
		if !strings.Contains(out, "A: "+strconv.FormatInt(tc.failed, 10)+" failed requests over 5 reloads") {
			t.Errorf("text table:\n%s", out)
		}
	}
	res := Result{Kind: Memory, Systems: []SystemResult{{Role: "A", Name: "p", Processes: []ProcMem{
		{PID: 10, Role: "master", IdleRSS: 1 << 20}, {PID: 11, Role: "worker", IdleRSS: 2 << 20}}}}}
	if out := textTable(res); !strings.Contains(out, "master      10    1.0 MiB") || !strings.Contains(out, "worker      11    2.0 MiB") {
		t.Errorf("memory table lacks the processes:\n%s", out)
	}
}
