package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopaste/gopaste/internal/peer"
)

// Tests for issue 15's additions: CPU per request, the systems after B
// (Caddy, nginx with one worker) and their ratios, the php scenario.

// Our own process group's CPU time is found and grows with work.
func TestSampleCPUOfSelf(t *testing.T) {
	pgid, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	g, ok := statPGRP(string(pgid))
	if !ok {
		t.Fatal("no pgrp in /proc/self/stat")
	}
	s0 := sampleCPU(g)
	if _, ok := s0[os.Getpid()]; !ok {
		t.Fatalf("own pid %d not in the sample of group %d: %v", os.Getpid(), g, s0)
	}
	deadline := time.Now().Add(5 * time.Second)
	x := 0
	for sampleCPU(g).since(s0) < 2*clockTick && time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x ^= i
		}
	}
	if d := sampleCPU(g).since(s0); d < 2*clockTick {
		t.Errorf("5 s of spinning used %v of CPU (x %d)", d, x)
	}
}

func runsOf(rps []float64, p99ms []float64, cpu []time.Duration) []Run {
	var out []Run
	for i := range rps {
		out = append(out, Run{Round: i + 1, RPS: rps[i], Requests: int64(rps[i]), P99: time.Duration(p99ms[i] * float64(time.Millisecond)), CPU: cpu[i]})
	}
	return out
}

func TestCompareRunsFourSystems(t *testing.T) {
	sc := Scenario{Goal: Goal{MinRPSRatio: 0.9}, More: []Rival{{Goal: Goal{MinRPSRatio: 1.5}}, {}}}
	ms := time.Millisecond
	res := Result{Kind: Compare, Goal: sc.Goal, Systems: []SystemResult{
		{Role: "A", Name: "gopaste", Runs: runsOf([]float64{1000, 900, 1100}, []float64{2, 2, 2}, []time.Duration{20 * ms, 18 * ms, 22 * ms})},
		{Role: "B", Name: "nginx", Runs: runsOf([]float64{1000, 1000, 1000}, []float64{1, 4, 2}, []time.Duration{10 * ms, 10 * ms, 10 * ms})},
		{Role: "C", Name: "Caddy", Runs: runsOf([]float64{500, 450, 400}, []float64{4, 4, 4}, []time.Duration{40 * ms, 40 * ms, 40 * ms})},
		{Role: "D", Name: "nginx (1 worker)", Runs: runsOf([]float64{800, 900, 1100}, []float64{2, 2, 2}, []time.Duration{8 * ms, 9 * ms, 11 * ms})},
	}}
	for i := range res.Systems {
		summarizeRuns(&res.Systems[i])
	}
	compareRuns(sc, &res)
	approx := cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })
	if diff := cmp.Diff([]float64{1, 0.9, 1.1}, res.RPSRatios, approx); diff != "" {
		t.Errorf("A/B ratios (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{2, 0.5, 1}, res.P99Ratios, approx); diff != "" {
		t.Errorf("A/B p99 ratios (-want +got):\n%s", diff)
	}
	if len(res.Versus) != 2 {
		t.Fatalf("versus %+v, want C and D", res.Versus)
	}
	c, d := res.Versus[0], res.Versus[1]
	if c.Role != "C" || c.Name != "Caddy" || c.Goal.MinRPSRatio != 1.5 || d.Role != "D" || d.Goal.MinRPSRatio != 0 {
		t.Errorf("versus roles, names or goals: %+v", res.Versus)
	}
	if diff := cmp.Diff([]float64{2, 2, 2.75}, c.RPSRatios, approx); diff != "" {
		t.Errorf("A/C ratios (-want +got):\n%s", diff)
	}
	if c.RPSRatio.Median != 2 || d.RPSRatio.Median != 1 {
		t.Errorf("medians A/C %v, A/D %v; want 2 and 1", c.RPSRatio.Median, d.RPSRatio.Median)
	}
	// 20 ms of CPU over 1000 requests is 20 µs per request.
	if got := res.Systems[0].CPUus; got != (Summary{Median: 20, Min: 20, Max: 20}) {
		t.Errorf("A's CPU µs/req = %+v, want 20 each round", got)
	}
	if got := res.Systems[2].CPUus.Median; got < 79.9 || got > 100.1 {
		t.Errorf("Caddy's CPU µs/req median = %v, want 80 to 100", got)
	}

	judge(&res)
	c = res.Versus[0] // judge sets Met on the result's own entries
	if res.Met == nil || !*res.Met || c.Met == nil || !*c.Met || res.Versus[1].Met != nil {
		t.Errorf("met %v, C met %v, D met %v; want true, true, nil (D has no goal)", res.Met, c.Met, res.Versus[1].Met)
	}
	if !strings.Contains(res.Verdict, "req/s A/C 2.00× (goal ≥ 1.50×) met") {
		t.Errorf("verdict %q lacks A/C", res.Verdict)
	}
	// Missing the goal against C misses the scenario.
	res.Versus[0].Goal.MinRPSRatio = 3
	judge(&res)
	if *res.Met || *res.Versus[0].Met {
		t.Errorf("A/C 2.0× against a goal of 3×: met %v, verdict %q", *res.Met, res.Verdict)
	}
}

// Two systems still give the A/B figures and no Versus.
func TestCompareRunsTwoSystems(t *testing.T) {
	res := Result{Systems: []SystemResult{
		{Role: "A", Runs: runsOf([]float64{10}, []float64{1}, []time.Duration{0})},
		{Role: "B", Runs: runsOf([]float64{20}, []float64{2}, []time.Duration{0})},
	}}
	compareRuns(Scenario{}, &res)
	if res.RPSRatio.Median != 0.5 || res.P99Ratio.Median != 0.5 || res.Versus != nil {
		t.Errorf("A/B %v, p99 %v, versus %v", res.RPSRatio, res.P99Ratio, res.Versus)
	}
}

func TestRivalsMarkdown(t *testing.T) {
	met, no := true, false
	r := Result{Scenario: "static-small", Kind: Compare, Date: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Rounds: 3, Duration: 3 * time.Second,
		Connections: 64, Goal: Goal{MinRPSRatio: 0.9, MaxP99Ratio: 1.5}, Met: &no,
		RPSRatios: []float64{0.7}, RPSRatio: Summary{Median: 0.7}, P99Ratios: []float64{1.2}, P99Ratio: Summary{Median: 1.2},
		Systems: []SystemResult{
			{Role: "A", Name: "gopaste", RPS: Summary{Median: 70000}, CPUus: Summary{Median: 12.25}},
			{Role: "B", Name: "nginx", RPS: Summary{Median: 100000}, CPUus: Summary{Median: 6}},
			{Role: "C", Name: "Caddy", RPS: Summary{Median: 30000}, CPUus: Summary{Median: 30}},
			{Role: "D", Name: "nginx (1 worker)", RPS: Summary{Median: 80000}},
		},
		Versus: []Versus{
			{Role: "C", Name: "Caddy", Goal: Goal{MinRPSRatio: 1.5}, Met: &met, RPSRatios: []float64{2.33}, RPSRatio: Summary{Median: 2.33}},
			{Role: "D", Name: "nginx (1 worker)", RPSRatios: []float64{0.875}, RPSRatio: Summary{Median: 0.875}},
		}}
	md := renderMarkdown(map[string]latest{"static-small": {env: Env{Nproc: 2}, res: r}})
	for _, want := range []string{
		"| [static-small](#static-small) | req/s A/B ≥ 0.90×, p99 A/B ≤ 1.50×; req/s A/C (Caddy) ≥ 1.50× | 0.70×, p99 1.20×, vs Caddy 2.33×, vs nginx (1 worker) 0.88× | **no** |",
		"| A | gopaste | 70000 |", "| 12.2 | — |", // CPU per request; no shared backend
		"| D | nginx (1 worker) | 80000 | 0 | 0 | 0.00 | 0.00 | — | — |",
		"A/C (Caddy) req/s round by round: 2.330; median **2.33×**",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestNginxWorkers(t *testing.T) {
	d := tmplData{Dir: "/tmp/x", Port: 8081}
	auto, err := nginxConfig(&Nginx{Server: nginxStatic}, d)
	if err != nil {
		t.Fatal(err)
	}
	one, err := nginxConfig(oneWorker(nginxSystem("", nginxStatic)).Nginx, d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(auto, "worker_processes auto;") || !strings.Contains(one, "worker_processes 1;") {
		t.Errorf("worker_processes: auto config\n%s\none-worker config\n%s", auto, one)
	}
	// oneWorker copies: the scenario's B keeps auto.
	for _, sc := range scenarios {
		if sc.B.Nginx != nil && sc.B.Nginx.Workers != 0 {
			t.Errorf("%s: B runs nginx with %d workers, want auto", sc.Name, sc.B.Nginx.Workers)
		}
	}
}

// issue15Scenarios are the scenarios issue 15 asks to run against Caddy
// and nginx in one alternation.
var issue15Scenarios = []string{"static-small", "static-large", "proxy-http", "php"}

func TestIssue15ScenariosHaveRivals(t *testing.T) {
	for _, name := range issue15Scenarios {
		sel, err := selectScenarios(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := sel[0]
		var names []string
		for _, s := range sc.systems() {
			names = append(names, s.Name)
		}
		want := []string{"gopaste", "nginx", "Caddy", "nginx (1 worker)"}
		if name == "proxy-http" || name == "static-small" {
			want = append(want, "Go floor")
		}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("%s systems (-want +got):\n%s", name, diff)
		}
		if sc.More[0].Goal.MinRPSRatio != 1.5 || sc.Goal.MinRPSRatio == 0 {
			t.Errorf("%s: goals %+v and vs Caddy %+v", name, sc.Goal, sc.More[0].Goal)
		}
	}
}

// Every Caddyfile the scenarios write passes caddy validate.
func TestCaddyConfigsValidate(t *testing.T) {
	caddyBin := peer.Require(t, "caddy") // apt-get install -y caddy
	dir := t.TempDir()
	d := tmplData{Dir: dir, Port: 18099, Backend: "127.0.0.1:18098", Upstream: "127.0.0.1:18097", Bin: dir}
	n := 0
	for _, sc := range scenarios {
		for _, s := range sc.systems() {
			if len(s.Command) == 0 || s.Command[0] != "caddy" {
				continue
			}
			n++
			conf, err := render("caddy", s.Config, d)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, sc.Name+".Caddyfile")
			if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(caddyBin, "validate", "--adapter", "caddyfile", "--config", file)
			cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: caddy validate: %v\n%s\n%s", sc.Name, err, tail(string(out), 800), conf)
			}
		}
	}
	if n < len(issue15Scenarios) {
		t.Errorf("%d Caddy systems, want at least %d", n, len(issue15Scenarios))
	}
}

func TestPHPScenarioGopasteCheck(t *testing.T) {
	sel, err := selectScenarios("php")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := tmplData{Dir: dir, Port: 18099, Backend: "127.0.0.1:18098", Upstream: "127.0.0.1:18097", Bin: dir}
	for i, s := range gopasteParts(sel[0]) {
		config, err := s.gopasteConfig(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkGopaste(t, dir, "php-"+role(i), config); err != nil {
			t.Errorf("%s: gopaste check: %v\n%s", s.Name, err, config)
		}
	}
	for _, s := range sel[0].systems() {
		if s.Upstream == nil || s.Upstream.Command[0] != "php-fpm8.2" || !strings.Contains(s.Upstream.Config, "pm.max_children = 4\n") {
			t.Errorf("%s: not on its own pool of 4 php-fpm workers: %+v", s.Name, s.Upstream)
		}
	}
}

// A floor's ratios are reported against B as well as A's against it.
func TestCompareRunsFloor(t *testing.T) {
	sc := Scenario{Goal: Goal{MinRPSRatio: 0.9}, More: []Rival{{Floor: true}}}
	ms := time.Millisecond
	res := Result{Kind: Compare, Goal: sc.Goal, Systems: []SystemResult{
		{Role: "A", Name: "gopaste", Runs: runsOf([]float64{500, 600}, []float64{4, 4}, []time.Duration{ms, ms})},
		{Role: "B", Name: "nginx", Runs: runsOf([]float64{1000, 1000}, []float64{2, 2}, []time.Duration{ms, ms})},
		{Role: "C", Name: "Go floor", Runs: runsOf([]float64{700, 750}, []float64{3, 1}, []time.Duration{ms, ms})},
	}}
	compareRuns(sc, &res)
	if len(res.Versus) != 1 || !res.Versus[0].Floor {
		t.Fatalf("versus %+v, want C as a floor", res.Versus)
	}
	c := res.Versus[0]
	approx := cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })
	if diff := cmp.Diff([]float64{0.7, 0.75}, c.OverBRatios, approx); diff != "" {
		t.Errorf("C/B ratios (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{1.5, 0.5}, c.OverBP99, approx); diff != "" {
		t.Errorf("C/B p99 ratios (-want +got):\n%s", diff)
	}
	if got := textTable(res); !strings.Contains(got, "C/B req/s per round: 0.700 0.750  median 0.725 (the floor against B)") {
		t.Errorf("text table lacks the floor line:\n%s", got)
	}
	// A rival that is not a floor gets no such ratios.
	sc.More[0].Floor = false
	res.Versus = nil
	compareRuns(sc, &res)
	if res.Versus[0].Floor || res.Versus[0].OverBRatios != nil {
		t.Errorf("non-floor rival has floor ratios: %+v", res.Versus[0])
	}
}
