package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopaste/gopaste/internal/peer"
)

const wrkSample = `Running 1s test @ http://127.0.0.1:18081/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   671.95us    1.28ms  20.57ms   90.59%
    Req/Sec    26.17k     6.53k   40.02k    63.64%
  Latency Distribution
     50%  233.00us
     75%  536.00us
     90%    1.83ms
     99%    6.43ms
  57240 requests in 1.10s, 7.15MB read
Requests/sec:  52011.92
Transfer/sec:      6.50MB
`

const wrkErrors = `Running 10s test @ http://127.0.0.1:8080/x
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02s   300.00ms   1.99s    70.00%
    Req/Sec     10.00      5.00    20.00     60.00%
  Latency Distribution
     50%    1.01s 
     75%    1.20s 
     90%    1.50s 
     99%    1.90s 
  200 requests in 10.01s, 20.00KB read
  Socket errors: connect 0, read 3, write 0, timeout 12
  Non-2xx or 3xx responses: 7
Requests/sec:     19.98
Transfer/sec:      2.00KB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Run
	}{
		{"clean", wrkSample, Run{RPS: 52011.92, Requests: 57240, Duration: 1100 * time.Millisecond,
			P50: 233 * time.Microsecond, P75: 536 * time.Microsecond, P90: 1830 * time.Microsecond, P99: 6430 * time.Microsecond,
			Transfer: "6.50MB"}},
		{"errors", wrkErrors, Run{RPS: 19.98, Requests: 200, Duration: 10010 * time.Millisecond,
			P50: 1010 * time.Millisecond, P75: 1200 * time.Millisecond, P90: 1500 * time.Millisecond, P99: 1900 * time.Millisecond,
			Non2xx: 7, SocketErrs: 15, Transfer: "2.00KB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			approx := cmp.Comparer(func(a, b time.Duration) bool { d := a - b; return d > -time.Microsecond && d < time.Microsecond })
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("parseWrk mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseWrkRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":         "",
		"no latency":    "Requests/sec:  100.00\n",
		"no rps":        "     99%    1.90s\n",
		"bad rps":       "     99%    1.90s\nRequests/sec:  lots\n",
		"bad latency":   "     99%    fast\nRequests/sec:  1.0\n",
		"connect error": "unable to connect to 127.0.0.1:1 Connection refused\n",
	} {
		if _, err := parseWrk(in); err == nil {
			t.Errorf("%s: parseWrk = nil error, want one", name)
		}
	}
}

func TestParseWrkDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"233.00us", 233 * time.Microsecond},
		{"1.83ms", 1830 * time.Microsecond},
		{"2.07ms", 2070 * time.Microsecond}, // 2.07*1e6 is 2069999.99...: rounded, not truncated
		{"1.10s", 1100 * time.Millisecond},
		{"2.00m", 2 * time.Minute},
		{"1.00h", time.Hour},
	}
	for _, tt := range tests {
		got, err := parseWrkDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "1.0", "-1ms", "xms", "1e99s"} {
		if _, err := parseWrkDuration(bad); err == nil {
			t.Errorf("parseWrkDuration(%q) = nil error", bad)
		}
	}
}

func TestWrkArgs(t *testing.T) {
	got := wrkArgs("http://h/", 64, 10*time.Second, []string{"Accept-Encoding: gzip"})
	want := []string{"-t2", "-c64", "-d10s", "--latency", "-H", "Accept-Encoding: gzip", "http://h/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrkArgs (-want +got):\n%s", diff)
	}
	if got := wrkArgs("u", 1, 100*time.Millisecond, nil); got[0] != "-t1" || got[2] != "-d1s" {
		t.Errorf("one connection, short run: %q; want -t1 and -d1s", got)
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"one", []float64{3}, Summary{3, 3, 3}},
		{"odd", []float64{5, 1, 3}, Summary{3, 1, 5}},
		{"even", []float64{4, 1, 3, 2}, Summary{2.5, 1, 4}},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.in...)
		if got := summarize(tt.in); got != tt.want {
			t.Errorf("%s: summarize(%v) = %+v, want %+v", tt.name, tt.in, got, tt.want)
		}
		if !cmp.Equal(in, tt.in) {
			t.Errorf("%s: summarize changed its input", tt.name)
		}
	}
}

func TestSpread(t *testing.T) {
	if got := (Summary{Min: 100, Max: 125}).Spread(); math.Abs(got-0.25) > 1e-9 {
		t.Errorf("spread = %v, want 0.25", got)
	}
	if got := (Summary{Min: 100, Max: 119}).Spread(); got > spreadLimit {
		t.Errorf("spread of 19%% = %v, over the limit", got)
	}
	if got := (Summary{}).Spread(); got != 0 {
		t.Errorf("empty spread = %v", got)
	}
	if got := (Summary{Min: 0, Max: 1}).Spread(); !math.IsInf(got, 1) {
		t.Errorf("spread from 0 = %v, want +Inf", got)
	}
}

func TestRatios(t *testing.T) {
	got := ratios([]float64{10, 20, 30}, []float64{5, 0, 60, 99})
	if diff := cmp.Diff([]float64{2, 0.5}, got); diff != "" {
		t.Errorf("ratios (-want +got):\n%s", diff)
	}
}

func TestJudge(t *testing.T) {
	res := Result{Kind: Compare, Goal: Goal{MinRPSRatio: 1, MaxP99Ratio: 1},
		Systems: []SystemResult{{Name: "a"}, {Name: "b"}}, RPSRatio: Summary{Median: 1.1}, P99Ratio: Summary{Median: 1.2}}
	judge(&res)
	if res.Met == nil || *res.Met || !strings.Contains(res.Verdict, "p99 A/B 1.20× (goal ≤ 1.00×) MISSED") {
		t.Errorf("met %v, verdict %q; want missed on p99", res.Met, res.Verdict)
	}
	res = Result{Kind: Startup, Goal: Goal{MaxStartup: 50 * time.Millisecond},
		Systems: []SystemResult{{StartupMs: []float64{10}, Startup: Summary{Median: 10}}}}
	judge(&res)
	if res.Met == nil || !*res.Met {
		t.Errorf("startup 10 ms vs 50 ms: met %v, verdict %q", res.Met, res.Verdict)
	}
	res = Result{Kind: Memory, Goal: Goal{MaxIdleRSS: 15 << 20}, Systems: []SystemResult{{IdleRSS: 16 << 20}}}
	judge(&res)
	if res.Met == nil || *res.Met {
		t.Errorf("16 MiB idle vs 15: met %v, verdict %q", res.Met, res.Verdict)
	}
}

func TestParseMemStatus(t *testing.T) {
	in := "Name:\tgopaste\nVmPeak:\t  800000 kB\nVmHWM:\t   12000 kB\nVmRSS:\t    9000 kB\nThreads:\t5\n"
	rss, hwm, err := parseMemStatus(strings.NewReader(in))
	if err != nil || rss != 9000<<10 || hwm != 12000<<10 {
		t.Errorf("parseMemStatus = %d, %d, %v", rss, hwm, err)
	}
	if _, _, err := parseMemStatus(strings.NewReader("Name:\tkthreadd\n")); err == nil {
		t.Error("no VmRSS (a kernel thread): nil error")
	}
}

func TestStatPGRP(t *testing.T) {
	for in, want := range map[string]int{
		"123 (gopaste) S 1 123 123 0 -1":      123,
		"77 (a (weird) name) R 10 55 55 0 -1": 55,
	} {
		if got, ok := statPGRP(in); !ok || got != want {
			t.Errorf("statPGRP(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	if _, ok := statPGRP("garbage"); ok {
		t.Error("statPGRP(garbage) ok")
	}
}

func TestStatTimes(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
	// majflt cmajflt utime stime cutime cstime priority nice threads
	// itrealvalue starttime ...
	tests := []struct {
		in     string
		want   procCPU
		wantOK bool
	}{
		{"4242 (gopaste) S 1 4242 4242 0 -1 4194560 1200 0 3 0 150 37 20 5 20 0 7 0 9000 2990080 411", procCPU{own: 187, reaped: 25, start: 9000}, true},
		{"77 (a (b) c) R 1 77 77 0 -1 0 0 0 0 0 5 6 99 1 20 0 1 0 12", procCPU{own: 11, reaped: 100, start: 12}, true},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 0 0", procCPU{}, false}, // truncated before starttime
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 five 6 0 0 20 0 1 0 1", procCPU{}, false},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 6 -1 0 20 0 1 0 1", procCPU{}, false},
		{"garbage", procCPU{}, false},
	}
	for _, tt := range tests {
		got, ok := statTimes(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("statTimes(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCPUSampleSince(t *testing.T) {
	before := cpuSample{
		1: {start: 1, own: 100, orphan: true}, // the group leader
		2: {start: 2, own: 50},                // a worker
		3: {start: 3, own: 30},                // a worker
		4: {start: 4, own: 10, orphan: true},  // adopted by init
	}
	after := cpuSample{
		1: {start: 1, own: 110, reaped: 55}, // 10 ticks; reaped 2 after its 5 more
		3: {start: 3, own: 40},              // 10 ticks
		5: {start: 8, own: 7},               // started, exited, not reaped yet
		// 4 gone: init reaped it; its time during the round is lost
	}
	if got, want := after.since(before), 32*clockTick; got != want {
		t.Errorf("since = %v, want %v", got, want)
	}
	// A worker that used 20 more ticks, reaped, and its pid reused by a
	// younger process with 3: 23, not 3-500 nor 520+3.
	before = cpuSample{1: {start: 1, orphan: true}, 10: {start: 5, own: 500}}
	after = cpuSample{1: {start: 1, reaped: 520}, 10: {start: 9, own: 3}}
	if got, want := after.since(before), 23*clockTick; got != want {
		t.Errorf("reused pid: since = %v, want %v", got, want)
	}
	// A process gone unseen from the tree does not make it negative.
	if got := (cpuSample{}).since(cpuSample{10: {start: 5, own: 500}}); got != 0 {
		t.Errorf("lost worker: since = %v, want 0", got)
	}
	if got := perRequest(340*time.Millisecond, 10000); got != 34 {
		t.Errorf("perRequest = %v µs, want 34", got)
	}
	if got := perRequest(time.Second, 0); got != 0 {
		t.Errorf("perRequest with no requests = %v", got)
	}
}

// The burners of TestExitedChildren: each child holds burnMem of memory
// and burns burnCPU of CPU time, then writes its CPU time and VmHWM to a
// file and exits.
const (
	burnMem = 40 << 20
	burnCPU = 200 * time.Millisecond
)

// TestBurnHelper is the burner when TestExitedChildren runs this binary
// with GOPASTE_BENCH_BURN set; otherwise it does nothing.
func TestBurnHelper(t *testing.T) {
	dir := os.Getenv("GOPASTE_BENCH_BURN")
	if dir == "" {
		return
	}
	mem := make([]byte, burnMem)
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1
	}
	x := 0
	for selfCPU() < burnCPU {
		for i := range 100_000 {
			x ^= i
		}
	}
	_, hwm, err := memStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	report := fmt.Sprintf("%d %d %d", selfCPU(), hwm, x&int(mem[0]))
	if err := os.WriteFile(filepath.Join(dir, "burn-"+strconv.Itoa(os.Getpid())), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
}

// selfCPU is the user+system time of this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// A system whose processes exit during the round: a shell runs three
// burners one after the other, each under a shell of its own that waits
// for it (so its time reaches the outer shell through two cutimes), and
// all have exited and been reaped when the round ends. The CPU counted is
// what they burnt, not the little the shell used itself; the peak RSS is
// the most the tree held at once (one burner and the shells), not the sum
// of the three burners' peaks.
func TestExitedChildren(t *testing.T) {
	dir := t.TempDir()
	script := `while [ ! -e "$GOPASTE_BENCH_BURN/go" ]; do sleep 0.02; done
for i in 1 2 3; do sh -c '"$0" -test.run="^TestBurnHelper$"; true' "$0"; done
: > "$GOPASTE_BENCH_BURN/done"
exec sleep 60`
	p, err := startProc("burners", []string{"/bin/sh", "-c", script, os.Args[0]}, dir, []string{"GOPASTE_BENCH_BURN=" + dir}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	hs := startHWMSampler(p.pid())
	cpu0 := sampleCPU(p.pid())
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
			break
		}
		if p.exited() || time.Now().After(deadline) {
			hs.peak()
			t.Fatalf("the burners did not finish: %s", p.log.tail(600))
		}
		time.Sleep(20 * time.Millisecond)
	}
	counted := sampleCPU(p.pid()).since(cpu0)
	peak := hs.peak()

	files, _ := filepath.Glob(filepath.Join(dir, "burn-*"))
	if len(files) != 3 {
		t.Fatalf("%d burners reported, want 3: %s", len(files), p.log.tail(600))
	}
	var burnt time.Duration
	var sumHWM, maxHWM int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cpu, hwm, x int64
		if _, err := fmt.Sscan(string(b), &cpu, &hwm, &x); err != nil {
			t.Fatalf("%s: %q: %v", f, b, err)
		}
		burnt += time.Duration(cpu)
		sumHWM += hwm
		maxHWM = max(maxHWM, hwm)
	}
	// Each process's times are truncated to ticks once reaped into its
	// parent's; the shells and the burners' exits add a little.
	if counted < burnt-3*clockTick || counted > burnt+300*time.Millisecond {
		t.Errorf("CPU counted %v; the burners burnt %v", counted, burnt)
	}
	// One burner and three small shells at most at once.
	if peak < burnMem || peak > maxHWM+24<<20 || peak >= sumHWM {
		t.Errorf("peak RSS %d MiB; burners' peaks %d MiB each at most, %d MiB summed", peak>>20, maxHWM>>20, sumHWM>>20)
	}
	// The tree is quiet now (the shell sleeps): a sample of it holds
	// until a process goes or reaps a child.
	s := sampleCPU(p.pid())
	if !s.unchanged() {
		t.Errorf("a sample of a sleeping shell changed: %+v", s)
	}
	leader := s[p.pid()]
	s[p.pid()] = procCPU{start: leader.start, own: leader.own, reaped: leader.reaped + 1}
	if s.unchanged() {
		t.Error("unchanged with the leader's children's time changed")
	}
	s[p.pid()] = leader
	s[1<<30] = procCPU{} // above pid_max: gone
	if s.unchanged() {
		t.Error("unchanged with a process gone")
	}
	t.Logf("CPU counted %v, burnt %v; peak RSS %d MiB, burners' peaks %d MiB at most, %d MiB summed", counted, burnt, peak>>20, maxHWM>>20, sumHWM>>20)
}

// The group RSS of our own process is found and plausible.
func TestGroupRSSOfSelf(t *testing.T) {
	rss, hwm, err := memStatus(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if rss <= 0 || hwm < rss {
		t.Errorf("rss %d, hwm %d", rss, hwm)
	}
}

func TestLineLogFindsAddr(t *testing.T) {
	l := newLineLog()
	l.Write([]byte("time=... level=INFO msg=listening protocol=http ad"))
	l.Write([]byte("dr=127.0.0.1:41234 network=tcp\nmore\n"))
	select {
	case a := <-l.addr:
		if a != "127.0.0.1:41234" {
			t.Errorf("addr = %q", a)
		}
	default:
		t.Error("no addr found")
	}
}

func TestConfigs(t *testing.T) {
	d := tmplData{Dir: "/tmp/x", Port: 8081, Backend: "127.0.0.1:9000"}
	g, err := gopasteConfig(staticApp, "", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g, "document_root = /tmp/x/www") || !strings.Contains(g, "[server:main]\nuse = http\nhost = 127.0.0.1\nport = 8081\n") {
		t.Errorf("gopaste config:\n%s", g)
	}
	var proxy Scenario
	for _, sc := range scenarios {
		if sc.Name == "proxy-http" {
			proxy = sc
		}
	}
	n, err := nginxConfig(proxy.B.Nginx, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listen 127.0.0.1:8081;", "server 127.0.0.1:9000;", "keepalive 64;", "proxy_pass http://backend;", "pid /tmp/x/nginx.pid;"} {
		if !strings.Contains(n, want) {
			t.Errorf("nginx config lacks %q:\n%s", want, n)
		}
	}
	if _, err := gopasteConfig("{{.Nope}}", "", d); err == nil {
		t.Error("unknown template field: nil error")
	}
}

func TestNginxConfigParses(t *testing.T) {
	nginx := peer.Require(t, "nginx")
	dir := t.TempDir()
	if err := nginxDirs(dir); err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		for _, s := range sc.systems() {
			if s.Nginx == nil {
				continue
			}
			conf, err := nginxConfig(s.Nginx, tmplData{Dir: dir, Port: 18099, Backend: "127.0.0.1:18098", Upstream: "127.0.0.1:18097",
				Upstreams: []string{"127.0.0.1:18097", "127.0.0.1:18096"}})
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, sc.Name+".conf")
			os.WriteFile(file, []byte(conf), 0o644)
			out, err := exec.Command(nginx, "-t", "-p", dir, "-c", file, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
			if err != nil {
				t.Errorf("%s: nginx -t: %v\n%s\n%s", sc.Name, err, out, conf)
			}
		}
	}
}

func TestScenarioTable(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range scenarios {
		if seen[sc.Name] || sc.Name == "" || strings.Contains(sc.Name, ",") {
			t.Errorf("scenario name %q empty, repeated or with a comma", sc.Name)
		}
		seen[sc.Name] = true
		if sc.A.zero() {
			t.Errorf("%s: no system A", sc.Name)
		}
		if sc.Kind == Compare && sc.B.zero() {
			t.Errorf("%s: a comparison without B", sc.Name)
		}
	}
	if _, err := selectScenarios("hello, nope"); err == nil {
		t.Error("unknown scenario accepted")
	}
}

func TestMarkdown(t *testing.T) {
	dir := t.TempDir()
	met := true
	older := File{Env: Env{Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Nproc: 2, GoVersion: "go1.26", Command: "go run ./bench"},
		Results: []Result{{Scenario: "hello", Kind: Compare, Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Goal: Goal{MinRPSRatio: 0.95}, RPSRatios: []float64{0.5}, RPSRatio: Summary{Median: 0.5}}}}
	newer := File{Env: Env{Date: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Nproc: 2, GoVersion: "go1.26",
		Command: "go run ./bench -scenario hello", Versions: map[string]string{"wrk": "wrk 4.1.0 [epoll] Copyright (C) 2012 Will Glozer"}},
		Results: []Result{
			{Scenario: "hello", Kind: Compare, Date: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Rounds: 5, Duration: 10 * time.Second, Connections: 64,
				Goal: Goal{MinRPSRatio: 0.95}, Met: &met, RPSRatios: []float64{0.97, 1.01}, RPSRatio: Summary{Median: 0.99},
				Systems: []SystemResult{{Name: "gopaste", Role: "A", RPS: Summary{Median: 30000}}, {Name: "net/http", Role: "B", RPS: Summary{Median: 30300}}}},
			{Scenario: "static-small", Kind: Compare, Date: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Skipped: "nginx missing"},
		}}
	// A skipped run does not hide an older measured one.
	newest := File{Env: Env{Date: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		Results: []Result{{Scenario: "hello", Date: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Skipped: "wrk missing"}}}
	for name, f := range map[string]File{"a.json": older, "b.json": newer, "c.json": newest} {
		b, _ := json.Marshal(f)
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	doc := filepath.Join(t.TempDir(), "benchmarks.md")
	os.WriteFile(doc, []byte("# Benchmarks\n\nhand-written\n\n"+beginMarker+"\nold tables\n"+endMarker+"\n\n## Analysis\n\nkept\n"), 0o644)
	if err := writeMarkdown(dir, doc); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	s := string(b)
	for _, want := range []string{"hand-written", "## Analysis\n\nkept", "| [hello](#hello) | req/s A/B ≥ 0.95× | 0.99× | yes | 0.50× |",
		"| A | gopaste | 30000 |", "median **0.99×**", "Not measured", "nginx missing", "wrk 4.1.0 [epoll].", "go run ./bench -scenario hello"} {
		if !strings.Contains(s, want) {
			t.Errorf("benchmarks.md lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "CPU µs/req") {
		t.Errorf("results without CPU figures got CPU columns:\n%s", s)
	}
	if strings.Contains(s, "old tables") || strings.Contains(s, "median **0.50×**") {
		t.Errorf("old generated text or an older result kept:\n%s", s)
	}
}

// TestHelloEndToEnd runs the smallest real benchmarks: hello, one round
// of one second, and a 1 KiB file from gopaste, nginx and Caddy, one
// round of one second each (A/B/C). It needs wrk, nginx and Caddy; under
// CI=true a missing one fails the test. BENCH_GOPASTE names a prebuilt
// gopaste binary to use instead of building ./cmd/gopaste.
func TestHelloEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	peer.Require(t, "wrk")   // apt-get install -y wrk
	peer.Require(t, "nginx") // apt-get install -y nginx
	peer.Require(t, "caddy") // apt-get install -y caddy
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var out strings.Builder
	sc, _ := selectScenarios("hello")
	sc = append(sc, Scenario{Name: "tiny-rivals", Kind: Compare, Path: "/small.txt", Files: map[string]int{"small.txt": 1 << 10},
		A: gopasteSystem("gopaste", staticApp), B: nginxSystem("", nginxStatic), More: []Rival{caddy(caddyStatic, 0.01)}})
	o := Options{Root: root, Duration: time.Second, Rounds: 1, Connections: 8, Warmup: 0,
		StartupRuns: 1, MemRequests: 1, Gopaste: os.Getenv("BENCH_GOPASTE"), Out: &out}
	f, err := runBench(ctx, o, sc, "go test ./bench")
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(f.Results) != 2 {
		t.Fatalf("%d results", len(f.Results))
	}
	checkRivalsRun(t, f.Results[1], out.String())
	r := f.Results[0]
	if r.Skipped != "" {
		t.Fatalf("skipped: %s\n%s", r.Skipped, out.String())
	}
	if len(r.Systems) != 3 || len(r.RPSRatios) != 1 || len(r.Versus) != 1 || r.Met == nil {
		t.Fatalf("result %+v\n%s", r, out.String())
	}
	if r.Systems[2].Name != "net/http + timeouts" {
		t.Errorf("C is %q", r.Systems[2].Name)
	}
	for _, s := range r.Systems {
		if s.RPS.Median <= 0 || s.P99ms.Median <= 0 || s.IdleRSS <= 0 || s.PeakRSS < s.IdleRSS/2 {
			t.Errorf("%s: %+v", s.Name, s)
		}
		if len(s.Runs) != 1 || s.Runs[0].Non2xx != 0 {
			t.Errorf("%s: runs %+v", s.Name, s.Runs)
		}
	}
	if f.Env.Nproc <= 0 || f.Env.GoVersion == "" || f.Env.Versions["wrk"] == "" {
		t.Errorf("env %+v", f.Env)
	}
	if !strings.Contains(out.String(), "A/B req/s per round") {
		t.Errorf("no ratio line in the output:\n%s", out.String())
	}
}

// checkRivalsRun checks the A/B/C result of TestHelloEndToEnd.
func checkRivalsRun(t *testing.T, r Result, out string) {
	t.Helper()
	if r.Skipped != "" {
		t.Fatalf("tiny-rivals skipped: %s\n%s", r.Skipped, out)
	}
	if len(r.Systems) != 3 || len(r.RPSRatios) != 1 || len(r.Versus) != 1 || len(r.Versus[0].RPSRatios) != 1 {
		t.Fatalf("tiny-rivals result %+v\n%s", r, out)
	}
	for _, s := range r.Systems {
		if s.RPS.Median <= 0 || s.CPUus.Median <= 0 || len(s.Runs) != 1 || s.Runs[0].Non2xx != 0 {
			t.Errorf("%s (%s): req/s %v, CPU µs/req %v, runs %+v", s.Name, s.Role, s.RPS, s.CPUus, s.Runs)
		}
	}
	if r.Systems[2].Name != "Caddy" || r.Versus[0].Met == nil {
		t.Errorf("C is %q, met %v", r.Systems[2].Name, r.Versus[0].Met)
	}
	if !strings.Contains(out, "A/C req/s per round") {
		t.Errorf("no A/C line in the output:\n%s", out)
	}
}

// Rounds alternate the order of the systems, so that no system is always
// measured last.
func TestRoundOrder(t *testing.T) {
	for _, tc := range []struct {
		n, round int
		want     []int
	}{
		{3, 1, []int{0, 1, 2}}, {3, 2, []int{2, 1, 0}}, {3, 3, []int{0, 1, 2}},
		{2, 4, []int{1, 0}}, {1, 2, []int{0}},
	} {
		if got := roundOrder(tc.n, tc.round); !slices.Equal(got, tc.want) {
			t.Errorf("roundOrder(%d, %d) = %v, want %v", tc.n, tc.round, got, tc.want)
		}
	}
}

// TestDescribeBinary: a -gopaste binary is described by its own build
// info (here the test binary's), and a file that is not a Go binary is
// an error.
func TestDescribeBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info in the test binary")
	}
	want := "unknown"
	for _, s := range bi.Settings {
		if s.Key == "CGO_ENABLED" {
			want = s.Value
		}
	}
	e := Env{GoVersion: "go version go0.0", CGO: "tree's", Commit: "abc1234"}
	if err := describeBinary(&e, exe, "-gopaste"); err != nil {
		t.Fatal(err)
	}
	if e.CGO != want {
		t.Errorf("CGO = %q, want the binary's %q", e.CGO, want)
	}
	if wantV := "go version " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH; e.GoVersion != wantV {
		t.Errorf("GoVersion = %q, want %q", e.GoVersion, wantV)
	}
	if !strings.HasSuffix(e.Commit, "(-gopaste "+filepath.Base(exe)+")") || strings.HasPrefix(e.Commit, "abc1234") {
		t.Errorf("Commit = %q, want the binary's own, naming it", e.Commit)
	}
	notGo := filepath.Join(t.TempDir(), "script")
	os.WriteFile(notGo, []byte("#!/bin/sh\n"), 0o755)
	if err := describeBinary(&e, notGo, "-gopaste"); err == nil || !strings.Contains(err.Error(), "-gopaste "+notGo) {
		t.Errorf("describeBinary(a script) = %v, want an error naming it", err)
	}
}
