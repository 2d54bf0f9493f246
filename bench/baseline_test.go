package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopaste/gopaste/internal/peer"
)

// Tests for -baseline: an older gopaste build run in the same rounds as
// rivals, next to this build's systems.

// withBaseline copies the gopaste systems, A's first, and leaves the
// table itself alone.
func TestWithBaseline(t *testing.T) {
	sel, err := selectScenarios("hello,filters,fastcgi-server,static-small,idle-memory")
	if err != nil {
		t.Fatal(err)
	}
	before := len(scenarios[0].More)
	got := withBaseline(sel, "/old/gopaste")
	if len(scenarios[0].More) != before {
		t.Fatalf("the scenario table's hello has %d rivals, had %d", len(scenarios[0].More), before)
	}
	baselines := func(sc Scenario) (roles []string) {
		for _, r := range sc.More {
			if r.Baseline != "" {
				roles = append(roles, r.Baseline)
			}
		}
		return roles
	}
	for i, want := range [][]string{{"A"}, {"A", "B"}, {"A"}, {"A"}, nil} {
		if diff := cmp.Diff(want, baselines(got[i])); diff != "" {
			t.Errorf("%s: baseline copies (-want +got):\n%s", got[i].Name, diff)
		}
	}
	hello := got[0].More[len(got[0].More)-1]
	if hello.Name != "gopaste (baseline)" || hello.Binary != "/old/gopaste" || hello.Gopaste != sel[0].A.Gopaste || hello.Goal != (Goal{}) {
		t.Errorf("hello's copy of A: %+v", hello)
	}
	if got[0].A.Binary != "" {
		t.Errorf("A itself runs from %q", got[0].A.Binary)
	}
	filters := got[1].More
	if filters[0].Name != "gopaste+filters (baseline)" || filters[1].Name != "gopaste (baseline)" || filters[1].Binary != "/old/gopaste" {
		t.Errorf("filters' copies: %+v, %+v", filters[0].System, filters[1].System)
	}
	// fastcgi-server's A is nginx in front of a gopaste server: the copy
	// runs nginx in front of the older server.
	fc := got[2].More[len(got[2].More)-1]
	if fc.Nginx == nil || fc.Binary != "" || fc.Upstream == nil || fc.Upstream.Binary != "/old/gopaste" || sel[2].A.Upstream.Binary != "" {
		t.Errorf("fastcgi-server's copy: %+v, upstream %+v", fc.System, fc.Upstream)
	}
}

// A's copy is measured against B's copy when there is one (filters: the
// older build's filters against its bare app), else against B.
func TestCompareRunsBaseline(t *testing.T) {
	ms := time.Millisecond
	res := Result{Kind: Compare, Systems: []SystemResult{
		{Role: "A", Name: "gopaste+filters", Runs: runsOf([]float64{900, 800}, []float64{2, 2}, []time.Duration{ms, ms})},
		{Role: "B", Name: "gopaste", Runs: runsOf([]float64{1000, 1000}, []float64{2, 2}, []time.Duration{ms, ms})},
		{Role: "C", Name: "gopaste+filters (baseline)", Runs: runsOf([]float64{600, 700}, []float64{4, 3}, []time.Duration{ms, ms})},
		{Role: "D", Name: "gopaste (baseline)", Runs: runsOf([]float64{800, 1000}, []float64{2, 2}, []time.Duration{ms, ms})},
	}}
	sc := Scenario{More: []Rival{{Baseline: "A"}, {Baseline: "B"}}}
	compareRuns(sc, &res)
	c, d := res.Versus[0], res.Versus[1]
	approx := cmp.Comparer(func(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 })
	if diff := cmp.Diff([]float64{0.75, 0.7}, c.OverBRatios, approx); diff != "" {
		t.Errorf("C/D ratios (-want +got):\n%s", diff)
	}
	if c.OverRole != "D" || c.Baseline != "A" || c.Floor || d.OverRole != "" || d.OverBRatios != nil {
		t.Errorf("C %+v\nD %+v", c, d)
	}
	if got := textTable(res); !strings.Contains(got, "C/D req/s per round: 0.750 0.700  median 0.725 (the goal's ratio as the baseline build gives it)") {
		t.Errorf("text table lacks the baseline line:\n%s", got)
	}
	// Without B's copy (hello: B is net/http), against B.
	res.Systems, res.Versus = res.Systems[:3], nil
	compareRuns(Scenario{More: []Rival{{Baseline: "A"}}}, &res)
	if c := res.Versus[0]; c.OverRole != "B" || c.OverBRatio.Median < 0.649 || c.OverBRatio.Median > 0.651 {
		t.Errorf("C against B: %+v", c)
	}
}

// The copies really run from the -baseline binary: a wrapper around this
// build that leaves a mark before it starts serving.
func TestBaselineRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	peer.Require(t, "wrk") // apt-get install -y wrk
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := os.Getenv("BENCH_GOPASTE")
	if bin == "" {
		bin = filepath.Join(dir, "gopaste")
		if err := goBuild(ctx, root, bin, "./cmd/gopaste"); err != nil {
			t.Fatal(err)
		}
	}
	mark := filepath.Join(dir, "baseline-ran")
	wrapper := filepath.Join(dir, "old-gopaste")
	script := "#!/bin/sh\necho \"$@\" >> " + mark + "\nexec " + bin + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	sel, _ := selectScenarios("filters")
	var out strings.Builder
	o := Options{Root: root, Duration: time.Second, Rounds: 1, Connections: 4, StartupRuns: 1, MemRequests: 1, Gopaste: bin, Baseline: wrapper, Out: &out}
	f, err := runBench(ctx, o, sel, "go test ./bench")
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	r := f.Results[0]
	if r.Skipped != "" || len(r.Systems) != 4 || len(r.Versus) != 2 {
		t.Fatalf("result %+v\n%s", r, out.String())
	}
	for _, s := range r.Systems {
		if s.RPS.Median <= 0 || len(s.Runs) != 1 || s.Runs[0].Non2xx != 0 {
			t.Errorf("%s (%s): req/s %v, runs %+v", s.Name, s.Role, s.RPS, s.Runs)
		}
	}
	ran, err := os.ReadFile(mark)
	if err != nil {
		t.Fatalf("the baseline binary never ran: %v", err)
	}
	// Two copies, each started once: C and D.
	if lines := strings.Split(strings.TrimSpace(string(ran)), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "serve ") {
		t.Errorf("baseline runs %q, want two serve commands", ran)
	}
	if f.Env.Baseline != "unknown (-baseline old-gopaste)" {
		t.Errorf("baseline recorded as %q", f.Env.Baseline)
	}
	if r.Versus[0].OverRole != "D" || !strings.Contains(out.String(), "C/D req/s per round") {
		t.Errorf("no C/D ratio: %+v\n%s", r.Versus[0], out.String())
	}
}

// The page names the older build and gives the goal's ratio as it got it.
func TestBaselineMarkdown(t *testing.T) {
	r := Result{Scenario: "filters", Kind: Compare, Date: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), Rounds: 1, Duration: time.Second,
		Connections: 64, RPSRatios: []float64{0.9}, RPSRatio: Summary{Median: 0.9},
		Systems: []SystemResult{{Role: "A", Name: "gopaste+filters"}, {Role: "B", Name: "gopaste"},
			{Role: "C", Name: "gopaste+filters (baseline)"}, {Role: "D", Name: "gopaste (baseline)"}},
		Versus: []Versus{
			{Role: "C", Name: "gopaste+filters (baseline)", RPSRatios: []float64{1.01}, RPSRatio: Summary{Median: 1.01},
				Baseline: "A", OverRole: "D", OverBRatios: []float64{0.88}, OverBRatio: Summary{Median: 0.88}},
			{Role: "D", Name: "gopaste (baseline)", Baseline: "B", RPSRatios: []float64{0.89}, RPSRatio: Summary{Median: 0.89}},
		}}
	md := renderMarkdown(map[string]latest{"filters": {env: Env{Nproc: 2, Commit: "d05f2ce", Baseline: "4a32cdd (-baseline gopaste-old)"}, res: r}})
	for _, want := range []string{
		"gopaste commit d05f2ce, baseline commit 4a32cdd (-baseline gopaste-old)",
		"C/D, the goal's ratio as the baseline build gives it, req/s round by round: 0.880; median **0.88×**",
		"vs gopaste+filters (baseline) 1.01×, (gopaste+filters (baseline)/D 0.88×)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
