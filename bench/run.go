package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Options are the harness's settings, from the command line.
type Options struct {
	Root        string // the module's root directory
	Duration    time.Duration
	Rounds      int
	Connections int
	Warmup      time.Duration // per system, before the rounds
	StartupRuns int           // exec-to-200 measurements per system
	MemRequests int           // requests between the two RSS readings
	Gopaste     string        // a prebuilt gopaste binary; "" builds one
	Baseline    string        // an older gopaste binary run beside it (withBaseline)
	Out         io.Writer     // progress and tables
}

// runner holds what every scenario of one invocation shares.
type runner struct {
	opts    Options
	tmp     string
	gopaste string // binary
	hello   string // binary
	bin     string // the dir holding gopaste, hellosrv and the other benchTools
	wrk     string
}

// tmplData is what config templates see.
type tmplData struct {
	Dir      string
	Port     int
	Backend  string
	Config   string
	Upstream string // the address of the system's Upstream
	Bin      string // the dir holding the harness's binaries (hellosrv, fcgisrv)
	// Upstreams are the addresses of every instance of the Upstream.
	Upstreams []string
	// Gen is 0, then 1, 2, ... at each reload of a system with Reload.
	Gen int
}

func render(name, text string, d tmplData) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return b.String(), nil
}

// gopasteConfig is a Gopaste system's config with the server section
// and its ServerKeys.
func (s System) gopasteConfig(d tmplData) (string, error) {
	c, err := gopasteConfig(s.Gopaste, s.Server, d)
	if err != nil || s.ServerKeys == "" {
		return c, err
	}
	keys, err := render("server keys", s.ServerKeys, d)
	return c + strings.TrimRight(keys, "\n") + "\n", err
}

// gopasteConfig is a scenario's gopaste config with the server section.
func gopasteConfig(app, server string, d tmplData) (string, error) {
	s, err := render("gopaste", app, d)
	if err != nil {
		return "", err
	}
	if server == "" {
		server = "http"
	}
	return s + fmt.Sprintf("\n[server:main]\nuse = %s\nhost = 127.0.0.1\nport = %d\n", server, d.Port), nil
}

// nginxConfig is a complete nginx.conf around a scenario's snippets. It
// runs in the foreground, keeps its files in dir, logs no accesses, and
// keeps client connections open as long as Go's server does.
func nginxConfig(n *Nginx, d tmplData) (string, error) {
	httpPart, err := render("nginx http", n.HTTP, d)
	if err != nil {
		return "", err
	}
	serverPart, err := render("nginx server", n.Server, d)
	if err != nil {
		return "", err
	}
	user := ""
	if os.Geteuid() == 0 {
		// Workers would switch to nobody, who cannot read the temp dir.
		user = "user root;\n"
	}
	workers := "auto"
	if n.Workers > 0 {
		workers = strconv.Itoa(n.Workers)
	}
	return fmt.Sprintf(`%sdaemon off;
master_process on;
worker_processes %s;
pid %[3]s/nginx.pid;
error_log %[3]s/nginx-error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path %[3]s/nginx-tmp/body;
    proxy_temp_path %[3]s/nginx-tmp/proxy;
    fastcgi_temp_path %[3]s/nginx-tmp/fastcgi;
    uwsgi_temp_path %[3]s/nginx-tmp/uwsgi;
    scgi_temp_path %[3]s/nginx-tmp/scgi;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
%s
    server {
        listen 127.0.0.1:%d;
%s
    }
}
`, user, workers, d.Dir, indent(httpPart, "    "), d.Port, indent(serverPart, "        ")), nil
}

// nginxDirs makes the temp dirs nginxConfig names.
func nginxDirs(dir string) error {
	for _, sub := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, "nginx-tmp", sub), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func indent(s, prefix string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// started is a running system and what it was started with.
type started struct {
	sys    System
	role   string
	p      *proc
	url    string
	config string
	up     *started // the system's Upstream (or the next instance), if any
	file   string   // a Gopaste system's config file
	data   tmplData // what its config was rendered with
}

// start writes a system's config and starts it on a free port, after
// its Upstream when it has one. It does not wait for it to answer.
func (r *runner) start(sys System, role string, d tmplData, path string) (*started, error) {
	if sys.Upstream == nil {
		return r.launch(sys, role, d, path)
	}
	up, err := r.startInstances(*sys.Upstream, role+"-up", d)
	if err != nil {
		return nil, err
	}
	d.Upstream = up.addr()
	for u := up; u != nil; u = u.up {
		d.Upstreams = append(d.Upstreams, u.addr())
	}
	s, err := r.launch(sys, role, d, path)
	if err != nil {
		up.stop()
		return nil, err
	}
	s.up = up
	s.config = joinConfigs(s.config, up)
	return s, nil
}

// binary is the gopaste binary a Gopaste or Demo system runs.
func (r *runner) binary(sys System) string {
	if sys.Binary != "" {
		return sys.Binary
	}
	return r.gopaste
}

// launch writes one system's config and starts it on a free port.
func (r *runner) launch(sys System, role string, d tmplData, path string) (*started, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	d.Port = port
	d.Bin = r.bin
	name := strings.ToLower(role)
	var argv, env []string
	var config, file string
	switch {
	case sys.Demo:
		// Port 0: the demo's own port (8080) may be taken; the
		// address comes from its log.
		argv = []string{r.binary(sys), "serve", "-port", "0"}
	case sys.Gopaste != "":
		if config, err = sys.gopasteConfig(d); err != nil {
			return nil, err
		}
		file = filepath.Join(d.Dir, name+".ini")
		if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
			return nil, err
		}
		argv = []string{r.binary(sys), "serve", file}
	case sys.Hello:
		argv = []string{r.hello, "-addr", fmt.Sprintf("127.0.0.1:%d", port)}
	case sys.Nginx != nil:
		if config, err = nginxConfig(sys.Nginx, d); err != nil {
			return nil, err
		}
		if err := nginxDirs(d.Dir); err != nil {
			return nil, err
		}
		file := filepath.Join(d.Dir, name+"-nginx.conf")
		if err := os.WriteFile(file, []byte(config), 0o644); err != nil {
			return nil, err
		}
		nginx, err := exec.LookPath("nginx")
		if err != nil {
			return nil, err
		}
		argv = []string{nginx, "-p", d.Dir, "-c", file, "-e", filepath.Join(d.Dir, "nginx-error.log")}
	case sys.Command != nil:
		if sys.Config != "" {
			d.Config = filepath.Join(d.Dir, name+".conf")
			if config, err = render(sys.Name+" config", sys.Config, d); err != nil {
				return nil, err
			}
			if err := os.WriteFile(d.Config, []byte(config), 0o644); err != nil {
				return nil, err
			}
		}
		for _, a := range sys.Command {
			s, err := render(sys.Name+" command", a, d)
			if err != nil {
				return nil, err
			}
			argv = append(argv, s)
		}
	default:
		return nil, fmt.Errorf("system %q says nothing to run", sys.Name)
	}
	for _, e := range sys.Env {
		s, err := render(sys.Name+" env", e, d)
		if err != nil {
			return nil, err
		}
		env = append(env, s)
	}
	p, err := startProc(sys.Name, argv, d.Dir, env, sys.StopSignal)
	if err != nil {
		return nil, err
	}
	return &started{sys: sys, role: role, p: p, config: config, file: file, data: d,
		url: fmt.Sprintf("http://127.0.0.1:%d%s", port, path)}, nil
}

// ready waits until the system answers 200; the demo's address comes from
// its log.
func (s *started) ready(path string, timeout, interval time.Duration) error {
	if s.sys.Demo {
		addr, err := s.p.waitAddr(timeout)
		if err != nil {
			return err
		}
		s.url = "http://" + addr + path
	}
	return s.p.waitReady(s.url, timeout, interval)
}

const readyTimeout = 15 * time.Second

// prepare makes the scenario's temp dir and files.
func (r *runner) prepare(sc Scenario) (tmplData, error) {
	dir, err := os.MkdirTemp(r.tmp, sc.Name+"-")
	if err != nil {
		return tmplData{}, err
	}
	d := tmplData{Dir: dir}
	if len(sc.Files) > 0 || len(sc.Scripts) > 0 {
		www := filepath.Join(dir, "www")
		if err := os.MkdirAll(www, 0o755); err != nil {
			return d, err
		}
		for name, size := range sc.Files {
			if err := os.WriteFile(filepath.Join(www, name), fileContent(size), 0o644); err != nil {
				return d, err
			}
		}
		for name, text := range sc.Scripts {
			if err := os.WriteFile(filepath.Join(www, name), []byte(text), 0o644); err != nil {
				return d, err
			}
		}
	}
	return d, nil
}

// fileContent is size bytes of printable text, the same on every run.
func fileContent(size int) []byte {
	const line = "gopaste benchmark file: the quick brown fox jumps over the lazy dog 0123456789\n"
	b := make([]byte, size)
	for i := range b {
		b[i] = line[i%len(line)]
	}
	return b
}

// systems lists the scenario's systems: A, and B and the More when there
// are.
func (sc Scenario) systems() []System {
	if sc.B.zero() {
		return []System{sc.A}
	}
	out := []System{sc.A, sc.B}
	for _, m := range sc.More {
		out = append(out, m.System)
	}
	return out
}

// role names the scenario's i-th system: A, B, C, ...
func role(i int) string { return string(rune('A' + i)) }

func (sc Scenario) path() string {
	if sc.Path == "" {
		return "/"
	}
	return sc.Path
}

// missing returns the executables the scenario needs and does not find.
func (sc Scenario) missing() []string {
	var out []string
	all := sc.systems()
	if sc.Peer != nil {
		all = append(all, *sc.Peer)
	}
	for i := 0; i < len(all); i++ {
		s := all[i]
		if s.Upstream != nil {
			all = append(all, *s.Upstream)
		}
		for _, n := range s.Needs {
			if _, err := exec.LookPath(n); err != nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// runScenario runs one scenario. A system that cannot start makes the
// result Skipped, with the reason, rather than an error: parts written by
// other issues may not exist yet.
func (r *runner) runScenario(ctx context.Context, sc Scenario) Result {
	res := Result{Scenario: sc.Name, Desc: sc.Desc, Kind: sc.Kind, Goal: sc.Goal, Date: time.Now().UTC()}
	if m := sc.missing(); len(m) > 0 {
		res.Skipped = fmt.Sprintf("%s missing: apt-get install -y %s", strings.Join(m, ", "), strings.Join(aptPackages(m), " "))
		return res
	}
	var err error
	switch sc.Kind {
	case Compare:
		err = r.runCompare(ctx, sc, &res)
	case Memory:
		err = r.runMemory(ctx, sc, &res)
	case Startup:
		err = r.runStartup(ctx, sc, &res)
	default:
		err = fmt.Errorf("unknown kind %q", sc.Kind)
	}
	if err != nil {
		res.Skipped = err.Error()
		return res
	}
	judge(&res)
	return res
}

// startAll starts the backend (when the scenario has one) and every
// system, and waits until each answers. The caller stops what it returns,
// also on error.
func (r *runner) startAll(sc Scenario, d *tmplData) ([]*started, []*proc, error) {
	var extra []*proc
	if sc.Backend {
		p, err := startProc("backend", []string{r.hello, "-addr", "127.0.0.1:0"}, d.Dir, nil, 0)
		if err != nil {
			return nil, nil, err
		}
		extra = append(extra, p)
		addr, err := p.waitAddr(readyTimeout)
		if err != nil {
			return nil, extra, err
		}
		if err := p.waitReady("http://"+addr+"/", readyTimeout, 20*time.Millisecond); err != nil {
			return nil, extra, err
		}
		d.Backend = addr
	}
	if sc.Peer != nil {
		peer, err := r.startUpstream(*sc.Peer, "peer", *d)
		if err != nil {
			return nil, extra, err
		}
		extra = append(extra, peer.p)
		d.Backend = peer.addr()
	}
	var out []*started
	for i, sys := range sc.systems() {
		s, err := r.start(sys, role(i), *d, sc.path())
		if err != nil {
			return out, extra, fmt.Errorf("%s: %w", sys.Name, err)
		}
		out = append(out, s)
		if err := s.ready(sc.path(), readyTimeout, 20*time.Millisecond); err != nil {
			return out, extra, err
		}
	}
	return out, extra, nil
}

func stopAll(ss []*started, extra []*proc) {
	for _, s := range ss {
		s.stop()
	}
	for _, p := range extra {
		p.stop()
	}
}

func (r *runner) runCompare(ctx context.Context, sc Scenario, res *Result) error {
	if r.wrk == "" {
		return errors.New("wrk missing: apt-get install -y wrk")
	}
	o := r.opts
	res.Duration, res.Rounds, res.Connections = o.Duration, o.Rounds, o.Connections
	d, err := r.prepare(sc)
	if err != nil {
		return err
	}
	conns, wrkExtra, err := loadFor(sc, o, d.Dir)
	if err != nil {
		return err
	}
	res.Connections = conns
	ss, extra, err := r.startAll(sc, &d)
	defer stopAll(ss, extra)
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	res.Systems = make([]SystemResult, len(ss))
	for i, s := range ss {
		res.Systems[i] = SystemResult{Name: s.sys.Name, Role: s.role, Config: s.config, IdleRSS: s.rss()}
	}
	for _, s := range ss {
		fmt.Fprintf(o.Out, "  warm-up %s (%v)\n", s.sys.Name, o.Warmup)
		if _, err := runWrk(ctx, r.wrk, s.url, conns, o.Warmup, sc.Headers, wrkExtra...); err != nil {
			return fmt.Errorf("warm-up %s: %w", s.sys.Name, err)
		}
	}
	var backend []int // the shared backend's or peer's process groups
	for _, p := range extra {
		backend = append(backend, p.pid())
	}
	for round := 1; round <= o.Rounds; round++ {
		for _, i := range roundOrder(len(ss), round) {
			s := ss[i]
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := s.alive(); err != nil {
				return err
			}
			hs := startHWMSampler(s.pgids()...)
			cpu0, bcpu0 := sampleCPU(s.pgids()...), sampleCPU(backend...)
			rl := s.startReloads()
			run, err := runWrk(ctx, r.wrk, s.url, conns, o.Duration, sc.Headers, wrkExtra...)
			reloads, rerr := rl.stop()
			run.CPU, run.BackendCPU = sampleCPU(s.pgids()...).since(cpu0), sampleCPU(backend...).since(bcpu0)
			run.PeakRSS = hs.peak()
			if err == nil {
				err = rerr
			}
			if err != nil {
				return fmt.Errorf("%s round %d: %w", s.sys.Name, round, err)
			}
			res.Systems[i].Reloads += reloads
			run.System, run.Round = s.sys.Name, round
			sr := &res.Systems[i]
			sr.Runs = append(sr.Runs, run)
			sr.PeakRSS = max(sr.PeakRSS, run.PeakRSS)
			fmt.Fprintf(o.Out, "  round %d %-16s %10.0f req/s  p50 %8v  p99 %8v  cpu %6.1f µs/req\n", round, s.sys.Name,
				run.RPS, run.P50, run.P99, perRequest(run.CPU, run.Requests))
		}
	}
	for i := range res.Systems {
		summarizeRuns(&res.Systems[i])
	}
	compareRuns(sc, res)
	for i := range res.Systems {
		s := &res.Systems[i]
		if sp := s.RPS.Spread(); sp > spreadLimit {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: req/s min %.0f and max %.0f differ by %.0f%% (> %.0f%%): a noisy machine; quote medians",
				s.Name, s.RPS.Min, s.RPS.Max, 100*sp, 100*spreadLimit))
		}
		var non2xx, sockErr int64
		for _, run := range s.Runs {
			non2xx += run.Non2xx
			sockErr += run.SocketErrs
		}
		s.Failed = non2xx + sockErr
		if non2xx > 0 || sockErr > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d non-2xx/3xx answers and %d socket errors", s.Name, non2xx, sockErr))
		}
	}
	return nil
}

// roundOrder is the order in which round (from 1) runs n systems: as
// listed in odd rounds, reversed in even ones. The machine drifts within
// a round (a system measured third served about 10% more than the same
// system measured first, whichever it was: docs/benchmarks.md, "The Go
// runtime's CPUs and local workers"); alternating the order spreads that
// over every system instead of favouring the last.
func roundOrder(n, round int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
		if round%2 == 0 {
			order[i] = n - 1 - i
		}
	}
	return order
}

// compareRuns computes A's ratios against B (RPSRatios, P99Ratios) and
// against each system after it (Versus), round by round.
func compareRuns(sc Scenario, res *Result) {
	if len(res.Systems) < 2 {
		return
	}
	a := res.Systems[0]
	res.RPSRatios = ratios(rpsOf(a.Runs), rpsOf(res.Systems[1].Runs))
	res.RPSRatio = summarize(res.RPSRatios)
	res.P99Ratios = ratios(p99Of(a.Runs), p99Of(res.Systems[1].Runs))
	res.P99Ratio = summarize(res.P99Ratios)
	for i, o := range res.Systems[2:] {
		v := Versus{Role: o.Role, Name: o.Name,
			RPSRatios: ratios(rpsOf(a.Runs), rpsOf(o.Runs)), P99Ratios: ratios(p99Of(a.Runs), p99Of(o.Runs))}
		if i < len(sc.More) {
			v.Goal = sc.More[i].Goal
			v.Baseline = sc.More[i].Baseline
			if sc.More[i].Floor || v.Baseline == "A" {
				b := res.Systems[1]
				v.Floor = sc.More[i].Floor
				if j := slices.IndexFunc(sc.More, func(r Rival) bool { return r.Baseline == "B" }); v.Baseline == "A" && j >= 0 {
					b = res.Systems[2+j]
				}
				v.OverRole = b.Role
				v.OverBRatios = ratios(rpsOf(o.Runs), rpsOf(b.Runs))
				v.OverBP99 = ratios(p99Of(o.Runs), p99Of(b.Runs))
				v.OverBRatio, v.OverBP99Ratio = summarize(v.OverBRatios), summarize(v.OverBP99)
			}
		}
		v.RPSRatio, v.P99Ratio = summarize(v.RPSRatios), summarize(v.P99Ratios)
		res.Versus = append(res.Versus, v)
	}
}

func rpsOf(runs []Run) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = r.RPS
	}
	return out
}

func p99Of(runs []Run) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = float64(r.P99)
	}
	return out
}

func summarizeRuns(s *SystemResult) {
	var p50, p99 []time.Duration
	for _, r := range s.Runs {
		p50 = append(p50, r.P50)
		p99 = append(p99, r.P99)
	}
	var cpu, bcpu []float64
	for _, r := range s.Runs {
		if r.CPU > 0 {
			cpu = append(cpu, perRequest(r.CPU, r.Requests))
		}
		if r.BackendCPU > 0 {
			bcpu = append(bcpu, perRequest(r.BackendCPU, r.Requests))
		}
	}
	s.CPUus, s.BackendCPUus = summarize(cpu), summarize(bcpu)
	s.RPS = summarize(rpsOf(s.Runs))
	s.P50ms = summarize(durationsToMillis(p50))
	s.P99ms = summarize(durationsToMillis(p99))
}

func (r *runner) runMemory(ctx context.Context, sc Scenario, res *Result) error {
	o := r.opts
	d, err := r.prepare(sc)
	if err != nil {
		return err
	}
	ss, extra, err := r.startAll(sc, &d)
	defer stopAll(ss, extra)
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	for _, s := range ss {
		sr := SystemResult{Name: s.sys.Name, Role: s.role, Config: s.config, IdleRSS: s.rss(), Requests: o.MemRequests,
			Processes: s.procMem()}
		lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		hs := startHWMSampler(s.pgids()...)
		bad, err := loadRequests(lctx, s.url, o.MemRequests, min(o.Connections, 32))
		cancel()
		if err != nil {
			hs.peak()
			return fmt.Errorf("%s: %d requests: %w", s.sys.Name, o.MemRequests, err)
		}
		if bad > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d answers with status >= 400", s.sys.Name, bad))
		}
		time.Sleep(time.Second)
		sr.AfterRSS = s.rss()
		sr.PeakRSS = hs.peak()
		fmt.Fprintf(o.Out, "  %-16s idle %s, after %d requests %s, peak %s\n", s.sys.Name, mib(sr.IdleRSS), o.MemRequests, mib(sr.AfterRSS), mib(sr.PeakRSS))
		if len(sr.Processes) > 1 {
			after := s.procMem()
			for j := range sr.Processes {
				p := &sr.Processes[j]
				for _, a := range after {
					if a.PID == p.PID {
						p.AfterRSS = a.IdleRSS
					}
				}
				fmt.Fprintf(o.Out, "    %-6s pid %-7d idle %s, after %s\n", p.Role, p.PID, mib(p.IdleRSS), mib(p.AfterRSS))
			}
		}
		res.Systems = append(res.Systems, sr)
	}
	return nil
}

func (r *runner) runStartup(ctx context.Context, sc Scenario, res *Result) error {
	o := r.opts
	d, err := r.prepare(sc)
	if err != nil {
		return err
	}
	for i, sys := range sc.systems() {
		sr := SystemResult{Name: sys.Name, Role: role(i)}
		for n := 0; n < o.StartupRuns; n++ {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s, err := r.start(sys, sr.Role, d, sc.path())
			if err != nil {
				return fmt.Errorf("%s: %w", sys.Name, err)
			}
			err = s.ready(sc.path(), readyTimeout, time.Millisecond)
			elapsed := time.Since(s.p.started)
			s.stop()
			if err != nil {
				return err
			}
			sr.Config = s.config
			sr.StartupMs = append(sr.StartupMs, float64(elapsed)/float64(time.Millisecond))
		}
		sr.Startup = summarize(sr.StartupMs)
		fmt.Fprintf(o.Out, "  %-16s exec to first 200: median %.1f ms (min %.1f, max %.1f, %d runs)\n",
			sys.Name, sr.Startup.Median, sr.Startup.Min, sr.Startup.Max, len(sr.StartupMs))
		res.Systems = append(res.Systems, sr)
	}
	return nil
}

// judge compares the result with the scenario's goal.
func judge(res *Result) {
	if len(res.Systems) == 0 {
		return
	}
	a := res.Systems[0]
	met := true
	var parts []string
	g := res.Goal
	ratioGoals := func(g Goal, vs string, rps, p99 Summary) bool {
		ok := true
		if g.MinRPSRatio > 0 {
			okR := rps.Median >= g.MinRPSRatio
			ok = ok && okR
			parts = append(parts, fmt.Sprintf("req/s A/%s %.2f× (goal ≥ %.2f×) %s", vs, rps.Median, g.MinRPSRatio, metWord(okR)))
		}
		if g.MaxP99Ratio > 0 {
			okP := p99.Median <= g.MaxP99Ratio
			ok = ok && okP
			parts = append(parts, fmt.Sprintf("p99 A/%s %.2f× (goal ≤ %.2f×) %s", vs, p99.Median, g.MaxP99Ratio, metWord(okP)))
		}
		return ok
	}
	met = ratioGoals(g, "B", res.RPSRatio, res.P99Ratio)
	for i := range res.Versus {
		v := &res.Versus[i]
		if v.Goal.MinRPSRatio > 0 || v.Goal.MaxP99Ratio > 0 {
			ok := ratioGoals(v.Goal, v.Role, v.RPSRatio, v.P99Ratio)
			v.Met = &ok
			met = met && ok
		}
	}
	if g.MaxIdleRSS > 0 {
		ok := a.IdleRSS > 0 && a.IdleRSS <= g.MaxIdleRSS
		met = met && ok
		parts = append(parts, fmt.Sprintf("idle RSS %s (goal ≤ %s) %s", mib(a.IdleRSS), mib(g.MaxIdleRSS), metWord(ok)))
	}
	if g.NoFailures {
		ok := len(a.Runs) > 0 && a.Failed == 0
		met = met && ok
		parts = append(parts, fmt.Sprintf("%d failed requests over %d reloads (goal 0) %s", a.Failed, a.Reloads, metWord(ok)))
	}
	if g.MaxStartup > 0 {
		ms := float64(g.MaxStartup) / float64(time.Millisecond)
		ok := len(a.StartupMs) > 0 && a.Startup.Median <= ms
		met = met && ok
		parts = append(parts, fmt.Sprintf("startup %.1f ms (goal ≤ %.0f ms) %s", a.Startup.Median, ms, metWord(ok)))
	}
	if len(parts) == 0 {
		return
	}
	res.Met = &met
	res.Verdict = strings.Join(parts, "; ")
}

func metWord(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func mib(b int64) string {
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// aptPackages maps executables to the Debian packages that ship them.
func aptPackages(exes []string) []string {
	pkgs := map[string]string{
		"uwsgi":        "uwsgi-core uwsgi-plugin-python3",
		"php-fpm8.2":   "php8.2-fpm",
		"cgi-fcgi":     "libfcgi-bin",
		"apache2":      "apache2",
		"fcgiwrap":     "fcgiwrap",
		"spawn-fcgi":   "spawn-fcgi",
		"redis-server": "redis-server",
	}
	var out []string
	for _, e := range exes {
		if p, ok := pkgs[e]; ok {
			out = append(out, p)
		} else {
			out = append(out, e)
		}
	}
	return out
}
