// Command bench measures gopaste against nginx, a plain net/http server and
// the other peers, as ratios measured in one run, and renders
// docs/benchmarks.md from its results.
//
//	go run ./bench [-scenario hello,static-small] [-duration 10s] [-rounds 5]
//	               [-connections 64] [-json out.json]
//	go run ./bench -markdown
//
// Each scenario starts its systems on free loopback ports with configs
// written to a temp dir, waits until they answer 200, warms them up, then
// runs wrk --latency against A, B and any further systems (C, D: Caddy,
// nginx with one worker) alternately for the rounds (A B C, then C B A, ...), and
// stops everything by process group. It prints per system the median, min
// and max of requests/s, p50 and p99 latency, the CPU time per request
// (user+system of the system's process groups over the round, from
// /proc/PID/stat, divided by wrk's request count), the idle and peak RSS,
// and A's ratio to each other system round by round with its median. The
// scenarios are the table in scenarios.go.
//
// The harness installs nothing: a missing peer is reported with the
// apt-get command that installs it. It pins nothing either, and records
// nproc, the Go version and the peers' versions with the results.
package main

import (
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	// gopaste uses no cgo, so it is measured as it ships: a static build
	// (the dynamic loader and libc alone add about 1.5 MiB of idle RSS).
	// Set CGO_ENABLED=1 to measure a cgo build instead.
	if os.Getenv("CGO_ENABLED") == "" {
		os.Setenv("CGO_ENABLED", "0")
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	names := fs.String("scenario", "", "comma-separated scenarios to run (default all): "+strings.Join(scenarioNames(), ", "))
	duration := fs.Duration("duration", 10*time.Second, "length of each load run")
	rounds := fs.Int("rounds", 5, "A/B round pairs per scenario")
	conns := fs.Int("connections", 64, "concurrent connections (wrk -c)")
	warmup := fs.Duration("warmup", 2*time.Second, "warm-up load per system before the rounds")
	startupRuns := fs.Int("startup-runs", 20, "exec-to-first-200 measurements per system (startup)")
	memRequests := fs.Int("requests", 100000, "requests between the RSS readings (idle-memory)")
	jsonOut := fs.String("json", "", "results file (default bench/results/TIMESTAMP.json; \"-\" for none)")
	gopaste := fs.String("gopaste", "", "use this gopaste binary instead of building ./cmd/gopaste")
	baseline := fs.String("baseline", "", "also run each scenario's gopaste systems from this gopaste binary (an older build), in the same rounds")
	markdown := fs.Bool("markdown", false, "render docs/benchmarks.md from the latest results under bench/results/ and exit")
	list := fs.Bool("list", false, "list the scenarios and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	root, err := findRoot()
	if err != nil {
		return err
	}
	if *list {
		for _, sc := range scenarios {
			fmt.Fprintf(stdout, "%-14s %s\n", sc.Name, sc.Desc)
		}
		return nil
	}
	if *markdown {
		doc := filepath.Join(root, "docs", "benchmarks.md")
		if err := writeMarkdown(filepath.Join(root, "bench", "results"), doc); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", doc)
		return nil
	}
	if *duration < time.Second || *duration > 10*time.Minute {
		return fmt.Errorf("-duration %v: want 1s to 10m", *duration)
	}
	if *rounds < 1 || *rounds > 100 || *conns < 1 || *conns > 10000 || *startupRuns < 1 || *startupRuns > 1000 ||
		*memRequests < 1 || *memRequests > 10_000_000 || *warmup < 0 || *warmup > time.Minute {
		return errors.New("-rounds (1-100), -connections (1-10000), -startup-runs (1-1000), -requests or -warmup out of range")
	}
	selected, err := selectScenarios(*names)
	if err != nil {
		return err
	}
	if *baseline != "" {
		bin, err := filepath.Abs(*baseline)
		if err != nil {
			return err
		}
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("-baseline: %w", err)
		}
		*baseline = bin
	}
	opts := Options{Root: root, Duration: *duration, Rounds: *rounds, Connections: *conns,
		Warmup: *warmup, StartupRuns: *startupRuns, MemRequests: *memRequests, Gopaste: *gopaste, Baseline: *baseline, Out: stdout}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := runBench(ctx, opts, selected, "go run ./bench "+strings.Join(args, " "))
	if err != nil {
		return err
	}
	out := *jsonOut
	if out == "" {
		out = filepath.Join(root, "bench", "results", f.Env.Date.Format("20060102-150405")+".json")
	}
	if out != "-" {
		if err := writeJSON(out, f); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "results:", out)
	}
	return nil
}

func scenarioNames() []string {
	var ns []string
	for _, sc := range scenarios {
		ns = append(ns, sc.Name)
	}
	return ns
}

func selectScenarios(list string) ([]Scenario, error) {
	if strings.TrimSpace(list) == "" {
		return scenarios, nil
	}
	var out []Scenario
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(scenarios, func(s Scenario) bool { return s.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown scenario %q (have %s)", n, strings.Join(scenarioNames(), ", "))
		}
		out = append(out, scenarios[i])
	}
	return out, nil
}

// withBaseline adds to each compared scenario copies of its gopaste
// systems A and B (or of the gopaste server behind them) run from bin,
// A's copy first: rivals in the same rounds, so that this build and an
// older one are measured side by side.
func withBaseline(scs []Scenario, bin string) []Scenario {
	out := make([]Scenario, 0, len(scs))
	for _, sc := range scs {
		if sc.Kind == Compare {
			more := slices.Clone(sc.More)
			for i, sys := range []System{sc.A, sc.B} {
				if c, ok := onBinary(sys, bin); ok {
					c.Name += " (baseline)"
					more = append(more, Rival{System: c, Baseline: role(i)})
				}
			}
			sc.More = more
		}
		out = append(out, sc)
	}
	return out
}

// onBinary is sys run from bin, when it or its Upstream is gopaste.
func onBinary(sys System, bin string) (System, bool) {
	switch {
	case sys.Gopaste != "" || sys.Demo:
		sys.Binary = bin
		return sys, true
	case sys.Upstream != nil:
		up, ok := onBinary(*sys.Upstream, bin)
		sys.Upstream = &up
		return sys, ok
	}
	return sys, false
}

// runBench builds what it needs, runs the scenarios and prints each
// result. A scenario that cannot run is reported as skipped, with why.
func runBench(ctx context.Context, o Options, selected []Scenario, command string) (File, error) {
	env := collectEnv(o.Root, command)
	f := File{Env: env}
	tmp, err := os.MkdirTemp("", "gopaste-bench-")
	if err != nil {
		return f, err
	}
	defer os.RemoveAll(tmp)
	r := &runner{opts: o, tmp: tmp}
	if r.wrk, err = exec.LookPath("wrk"); err != nil {
		r.wrk = ""
		for _, sc := range selected {
			if sc.Kind == Compare {
				return f, errors.New("wrk is missing: apt-get install -y wrk")
			}
		}
	}
	if o.Gopaste != "" {
		// What is measured is that binary, not the tree: its own Go
		// version, cgo setting and commit are the ones to record.
		if err := describeBinary(&env, o.Gopaste, "-gopaste"); err != nil {
			return f, err
		}
		f.Env = env
		if env.CGO == "1" {
			fmt.Fprintf(o.Out, "warning: %s is a cgo build (dynamically linked: libc and the loader add about 1.5 MiB of RSS); gopaste ships with CGO_ENABLED=0\n", o.Gopaste)
		}
	}
	if o.Baseline != "" {
		// Only its commit is recorded; a binary without build
		// information (a wrapper script) is "unknown".
		b := Env{}
		if err := describeBinary(&b, o.Baseline, "-baseline"); err != nil {
			b.Commit = "unknown (-baseline " + filepath.Base(o.Baseline) + ")"
		}
		env.Baseline = b.Commit
		f.Env = env
		selected = withBaseline(selected, o.Baseline)
		fmt.Fprintf(o.Out, "baseline: gopaste commit %s\n", env.Baseline)
	}
	fmt.Fprintf(o.Out, "nproc %d, %s, CGO_ENABLED=%s, commit %s\n", env.Nproc, env.GoVersion, env.CGO, env.Commit)
	r.gopaste = o.Gopaste
	if r.gopaste == "" {
		r.gopaste = filepath.Join(tmp, "gopaste")
		if err := goBuild(ctx, o.Root, r.gopaste, "./cmd/gopaste"); err != nil {
			return f, err
		}
	}
	r.bin = tmp
	r.hello = filepath.Join(tmp, "hellosrv")
	for _, tool := range benchTools {
		if err := goBuild(ctx, o.Root, filepath.Join(tmp, tool), "./bench/"+tool); err != nil {
			return f, err
		}
	}
	for _, sc := range selected {
		if ctx.Err() != nil {
			return f, ctx.Err()
		}
		fmt.Fprintf(o.Out, "\n== %s: %s\n", sc.Name, sc.Desc)
		res := r.runScenario(ctx, sc)
		printResult(o.Out, res)
		f.Results = append(f.Results, res)
	}
	return f, nil
}

func goBuild(ctx context.Context, root, out, pkg string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, tail(string(b), 1000))
	}
	return nil
}

// findRoot walks up from the working directory to the module's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 64 {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/gopaste/gopaste") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("not inside the gopaste module: run from the repository")
}

// collectEnv records the machine and the versions of everything measured.
func collectEnv(root, command string) Env {
	e := Env{Date: time.Now().UTC(), Nproc: runtime.NumCPU(), Command: command, Versions: map[string]string{}}
	e.GoVersion = firstLine(output(root, "go", "version"))
	e.CGO = firstLine(output(root, "go", "env", "CGO_ENABLED"))
	e.Kernel = firstLine(output(root, "uname", "-sr"))
	e.Commit = firstLine(output(root, "git", "rev-parse", "--short", "HEAD"))
	if st := output(root, "git", "status", "--porcelain", "--untracked-files=no"); strings.TrimSpace(st) != "" {
		e.Commit += "+dirty"
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				e.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	for name, args := range versionCommands {
		if _, err := exec.LookPath(name); err == nil {
			if v := firstLine(output(root, name, args...)); v != "" {
				e.Versions[name] = v
			}
		}
	}
	return e
}

// describeBinary records in e the Go version, cgo setting and commit
// that bin (a -gopaste binary) was built with, from its build info; what
// it does not say is recorded as "unknown".
func describeBinary(e *Env, bin, flag string) error {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, bin, err)
	}
	e.CGO, e.Commit = "unknown", "unknown"
	goos, goarch := "", ""
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		case "CGO_ENABLED":
			e.CGO = s.Value
		case "vcs.revision":
			e.Commit = s.Value[:min(len(s.Value), 7)]
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	e.GoVersion = "go version " + bi.GoVersion
	if goos != "" && goarch != "" {
		e.GoVersion += " " + goos + "/" + goarch // as "go version" prints it
	}
	if modified && e.Commit != "unknown" {
		e.Commit += "+dirty"
	}
	e.Commit += " (" + flag + " " + filepath.Base(bin) + ")"
	return nil
}

// versionCommands say how each peer reports its version.
var versionCommands = map[string][]string{
	"wrk":        {"-v"},
	"nginx":      {"-v"},
	"uwsgi":      {"--version"},
	"php-fpm8.2": {"-v"},
	"apache2":    {"-v"},
	"caddy":      {"version"},
}

// output runs a short command and returns its combined output, "" on error
// other than a non-zero exit (wrk -v exits 1).
func output(dir, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return ""
	}
	return string(b)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func writeJSON(path string, f File) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printResult writes one scenario's table.
func printResult(w io.Writer, res Result) {
	if res.Skipped != "" {
		fmt.Fprintf(w, "SKIPPED %s: %s\n", res.Scenario, res.Skipped)
		return
	}
	fmt.Fprint(w, textTable(res))
	if res.Verdict != "" {
		fmt.Fprintf(w, "goal: %s\n", res.Verdict)
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", wn)
	}
}

func textTable(res Result) string {
	var b strings.Builder
	switch res.Kind {
	case Compare:
		fmt.Fprintf(&b, "%-2s %-18s %10s %10s %10s %9s %9s %10s %10s %10s %10s\n", "", "system", "req/s med", "min", "max", "p50 ms",
			"p99 ms", "cpu µs/req", "backend µs", "idle RSS", "peak RSS")
		for _, s := range res.Systems {
			fmt.Fprintf(&b, "%-2s %-18s %10.0f %10.0f %10.0f %9.2f %9.2f %10.1f %10.1f %10s %10s\n", s.Role, s.Name, s.RPS.Median, s.RPS.Min, s.RPS.Max,
				s.P50ms.Median, s.P99ms.Median, s.CPUus.Median, s.BackendCPUus.Median, mib(s.IdleRSS), mib(s.PeakRSS))
		}
		if len(res.RPSRatios) > 0 {
			fmt.Fprintf(&b, "A/B req/s per round: %s  median %.3f\n", fmtFloats(res.RPSRatios), res.RPSRatio.Median)
			fmt.Fprintf(&b, "A/B p99 per round:   %s  median %.3f\n", fmtFloats(res.P99Ratios), res.P99Ratio.Median)
		}
		for _, v := range res.Versus {
			fmt.Fprintf(&b, "A/%s req/s per round: %s  median %.3f (%s)\n", v.Role, fmtFloats(v.RPSRatios), v.RPSRatio.Median, v.Name)
			fmt.Fprintf(&b, "A/%s p99 per round:   %s  median %.3f\n", v.Role, fmtFloats(v.P99Ratios), v.P99Ratio.Median)
			if v.overRole() != "" {
				fmt.Fprintf(&b, "%s/%s req/s per round: %s  median %.3f (%s)\n", v.Role, v.overRole(), fmtFloats(v.OverBRatios), v.OverBRatio.Median, v.overWhat())
				fmt.Fprintf(&b, "%s/%s p99 per round:   %s  median %.3f\n", v.Role, v.overRole(), fmtFloats(v.OverBP99), v.OverBP99Ratio.Median)
			}
		}
		for _, s := range res.Systems {
			if s.Reloads > 0 || s.Failed > 0 || res.Goal.NoFailures {
				fmt.Fprintf(&b, "%s: %d failed requests over %d reloads\n", s.Role, s.Failed, s.Reloads)
			}
		}
	case Memory:
		fmt.Fprintf(&b, "%-2s %-16s %10s %14s %10s\n", "", "system", "idle RSS", "after load RSS", "peak RSS")
		for _, s := range res.Systems {
			fmt.Fprintf(&b, "%-2s %-16s %10s %14s %10s\n", s.Role, s.Name, mib(s.IdleRSS), mib(s.AfterRSS), mib(s.PeakRSS))
			if len(s.Processes) > 1 {
				for _, p := range s.Processes {
					fmt.Fprintf(&b, "%-2s   %-6s %7d %10s %14s\n", "", p.Role, p.PID, mib(p.IdleRSS), mib(p.AfterRSS))
				}
			}
		}
	case Startup:
		fmt.Fprintf(&b, "%-2s %-16s %10s %8s %8s %5s\n", "", "system", "median ms", "min", "max", "runs")
		for _, s := range res.Systems {
			fmt.Fprintf(&b, "%-2s %-16s %10.1f %8.1f %8.1f %5d\n", s.Role, s.Name, s.Startup.Median, s.Startup.Min, s.Startup.Max, len(s.StartupMs))
		}
	}
	return b.String()
}

func fmtFloats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(parts, " ")
}
