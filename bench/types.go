package main

import (
	"syscall"
	"time"
)

// Kind says how a scenario measures.
type Kind string

const (
	// Compare loads A and B alternately with wrk, round by round.
	Compare Kind = "compare"
	// Memory measures RSS after start and after a fixed number of requests.
	Memory Kind = "memory"
	// Startup measures the time from exec to the first 200.
	Startup Kind = "startup"
)

// Scenario is one entry of the table in scenarios.go.
type Scenario struct {
	Name    string
	Desc    string
	Kind    Kind
	Goal    Goal
	Path    string         // the path requested; "" means "/"
	Headers []string       // extra request headers for wrk ("Name: value")
	Files   map[string]int // files written under {{.Dir}}/www: name -> size in bytes
	Backend bool           // start the Go backend (hellosrv) first; its address is {{.Backend}}
	// Peer, when set, is started once before A and B instead of hellosrv
	// (a uWSGI both systems forward to); its address is {{.Backend}}.
	Peer *System
	A, B System // B may be the zero System for single-system scenarios
	// More are further systems (roles C, D, ...) loaded in the same
	// alternation and compared with A the way B is, each with its own
	// goal: Caddy, nginx with one worker.
	More []Rival
	// Scripts are files written under {{.Dir}}/www with this content
	// (hello.php).
	Scripts map[string]string
}

// Rival is a system after B in a scenario and A's goal against it.
type Rival struct {
	System
	Goal Goal // only MinRPSRatio and MaxP99Ratio apply
	// Floor marks a reference program that does the least of A's work
	// on the same Go packages (bench/floorsrv): its own ratios against
	// B are reported too, as the most any proxy so built could reach.
	Floor bool
	// Baseline is "A" or "B" when this rival is that gopaste system run
	// from the -baseline binary (an older build) in the same rounds. A's
	// copy is also measured against B, or against B's copy when B is a
	// gopaste system as well: the scenario's goal ratio as the older
	// build gives it, side by side with this build's.
	Baseline string
}

// System is one server under test. Exactly one of Gopaste, Demo, Hello,
// Nginx and Command says what runs.
type System struct {
	Name    string // its label in the tables
	Gopaste string // a gopaste config template, without [server:main]
	Demo    bool   // "gopaste serve" with no config
	// Binary runs a Gopaste or Demo system from this gopaste binary
	// instead of the run's own (-baseline).
	Binary string
	Hello  bool   // bench/hellosrv
	Nginx  *Nginx // nginx with these snippets
	// Command is a peer's argv (templates allowed); Config, when set, is
	// written to a file whose path is {{.Config}}.
	Command []string
	Config  string
	// Env are extra NAME=value variables for the system's process
	// (templates allowed).
	Env   []string
	Needs []string // executables it needs besides gopaste and wrk
	// Server is the gopaste server the harness writes for a Gopaste
	// system ("uwsgi", "fastcgi"...); "" means "http".
	Server string
	// Upstream, when set, is started first on its own port, waited for
	// until it accepts connections, and stopped with this system; its
	// address is {{.Upstream}} here (nginx in front of a gopaste server).
	// Its memory counts as this system's.
	Upstream *System
	// Instances is how many copies of this system run when it is an
	// Upstream, each on its own port; 0 means 1. The front's templates
	// see every address in {{.Upstreams}}, the first in {{.Upstream}}.
	Instances int
	// ServerKeys are more keys for the [server:main] section the harness
	// writes for a Gopaste system ("concurrency = prefork").
	ServerKeys string
	// Reload, when set, makes the harness rewrite a Gopaste system's
	// config (with {{.Gen}} counting up) and send it SIGHUP this often
	// while wrk loads it.
	Reload time.Duration
	// StopSignal ends the system's process group; 0 means SIGTERM.
	// uWSGI 2.0 takes SIGTERM for a reload, and stops on SIGINT.
	StopSignal syscall.Signal
}

// Nginx holds the two places a scenario puts nginx directives.
type Nginx struct {
	HTTP   string // in the http block: upstreams, maps
	Server string // in the server block that listens on {{.Port}}
	// Workers is worker_processes; 0 means auto (one per core, what
	// nginx's users run).
	Workers int
}

func (s System) zero() bool {
	return s.Name == "" && s.Gopaste == "" && !s.Demo && !s.Hello && s.Nginx == nil && s.Command == nil
}

// Goal is what a scenario should reach; zero fields are not goals.
type Goal struct {
	MinRPSRatio float64       `json:"min_rps_ratio,omitempty"` // median A/B req/s at least this
	MaxP99Ratio float64       `json:"max_p99_ratio,omitempty"` // median A/B p99 latency at most this
	MaxIdleRSS  int64         `json:"max_idle_rss_bytes,omitempty"`
	MaxStartup  time.Duration `json:"max_startup_ns,omitempty"`
	// NoFailures: A answers every request of its rounds (no non-2xx/3xx
	// answer, no socket error).
	NoFailures bool `json:"no_failures,omitempty"`
}

// Env is the machine and software a results file was measured with.
type Env struct {
	Date      time.Time         `json:"date"`
	Nproc     int               `json:"nproc"`
	CPU       string            `json:"cpu,omitempty"`
	Kernel    string            `json:"kernel,omitempty"`
	GoVersion string            `json:"go_version"`
	CGO       string            `json:"cgo_enabled,omitempty"` // go env CGO_ENABLED when gopaste was built
	Commit    string            `json:"commit,omitempty"`
	Baseline  string            `json:"baseline,omitempty"` // the -baseline binary's commit
	Command   string            `json:"command"`
	Versions  map[string]string `json:"versions"` // wrk, nginx, ...
}

// File is one results file under bench/results/.
type File struct {
	Env     Env      `json:"env"`
	Results []Result `json:"results"`
}

// Result is what one scenario measured.
type Result struct {
	Scenario    string         `json:"scenario"`
	Desc        string         `json:"description"`
	Kind        Kind           `json:"kind"`
	Goal        Goal           `json:"goal"`
	Date        time.Time      `json:"date"`
	Duration    time.Duration  `json:"duration_ns,omitempty"`
	Rounds      int            `json:"rounds,omitempty"`
	Connections int            `json:"connections,omitempty"`
	Systems     []SystemResult `json:"systems"`
	RPSRatios   []float64      `json:"rps_ratios,omitempty"` // A/B, round by round
	RPSRatio    Summary        `json:"rps_ratio"`
	P99Ratios   []float64      `json:"p99_ratios,omitempty"`
	P99Ratio    Summary        `json:"p99_ratio"`
	// Versus holds A's ratios against the systems after B (C, D, ...),
	// round by round, and whether their goals were met.
	Versus   []Versus `json:"versus,omitempty"`
	Met      *bool    `json:"met,omitempty"`
	Verdict  string   `json:"verdict,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Skipped  string   `json:"skipped,omitempty"`
}

// SystemResult is one system's figures in a scenario.
type SystemResult struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"` // A or B
	Config    string    `json:"config,omitempty"`
	Runs      []Run     `json:"runs,omitempty"`
	RPS       Summary   `json:"rps"`
	P50ms     Summary   `json:"p50_ms"`
	P99ms     Summary   `json:"p99_ms"`
	IdleRSS   int64     `json:"idle_rss_bytes,omitempty"`
	PeakRSS   int64     `json:"peak_rss_bytes,omitempty"`
	AfterRSS  int64     `json:"after_load_rss_bytes,omitempty"` // Memory: RSS after the requests
	Requests  int       `json:"requests,omitempty"`             // Memory: requests sent
	StartupMs []float64 `json:"startup_ms,omitempty"`
	Startup   Summary   `json:"startup_summary_ms"`
	// CPUus is the CPU time (user+system, all the system's processes
	// and its upstream's) per request in µs, per round summarized.
	CPUus Summary `json:"cpu_us_per_request"`
	// BackendCPUus is the same for the backend or peer the scenario's
	// systems share (hellosrv, uWSGI, php-fpm) during this system's rounds.
	BackendCPUus Summary `json:"backend_cpu_us_per_request"`
	// Failed counts wrk's non-2xx/3xx answers and socket errors over the
	// rounds; Reloads the SIGHUPs sent during them.
	Failed  int64 `json:"failed_requests,omitempty"`
	Reloads int   `json:"reloads,omitempty"`
	// Processes are the system's processes one by one (Memory), the
	// first one started first: a prefork master and its workers.
	Processes []ProcMem `json:"processes,omitempty"`
}

// ProcMem is one process of a system in a Memory scenario.
type ProcMem struct {
	PID      int    `json:"pid"`
	Role     string `json:"role"` // "master" (the process the harness started) or "worker" (a descendant)
	IdleRSS  int64  `json:"idle_rss_bytes"`
	AfterRSS int64  `json:"after_load_rss_bytes,omitempty"`
}

// Versus is A measured against one system after B.
type Versus struct {
	Role      string    `json:"role"` // C, D, ...
	Name      string    `json:"name"`
	Goal      Goal      `json:"goal"`
	RPSRatios []float64 `json:"rps_ratios,omitempty"` // A/this, round by round
	RPSRatio  Summary   `json:"rps_ratio"`
	P99Ratios []float64 `json:"p99_ratios,omitempty"`
	P99Ratio  Summary   `json:"p99_ratio"`
	Met       *bool     `json:"met,omitempty"`
	// For a floor (Rival.Floor) and for A's baseline copy
	// (Rival.Baseline): this system against B, round by round; for the
	// baseline, against B's baseline copy when there is one (OverRole).
	Floor         bool      `json:"floor,omitempty"`
	Baseline      string    `json:"baseline,omitempty"`
	OverRole      string    `json:"over_role,omitempty"`
	OverBRatios   []float64 `json:"over_b_rps_ratios,omitempty"`
	OverBRatio    Summary   `json:"over_b_rps_ratio"`
	OverBP99      []float64 `json:"over_b_p99_ratios,omitempty"`
	OverBP99Ratio Summary   `json:"over_b_p99_ratio"`
}

// overWhat says what the OverB ratios of v compare.
func (v Versus) overWhat() string {
	if v.Floor {
		return "the floor against B"
	}
	return "the goal's ratio as the baseline build gives it"
}

// overRole is the role the OverB ratios are against (results written
// before OverRole was recorded: B).
func (v Versus) overRole() string {
	if v.OverRole == "" && (v.Floor || v.Baseline == "A") {
		return "B"
	}
	return v.OverRole
}
