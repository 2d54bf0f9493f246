package admin

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/registry"
)

// Worker is one worker process as a [WorkerSource] reports it.
type Worker struct {
	// Pool names the group the worker belongs to: the process app's
	// section name, "prefork" for a server's workers.
	Pool     string    `json:"pool"`
	PID      int       `json:"pid"`
	State    string    `json:"state"`    // "starting", "ready", "busy", "stopping", ...
	Requests uint64    `json:"requests"` // served since it started
	RSS      int64     `json:"rss_bytes"`
	Started  time.Time `json:"started"`
	// Current is the request it is serving, nil when idle.
	Current *Request `json:"current,omitempty"`
}

// Request is a request a worker is serving.
type Request struct {
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Since  time.Time `json:"since"`
}

// WorkerSource reports workers: the process app's pools, the prefork
// master. Workers is called for each status page, JSON and metrics
// request, from any goroutine; it should return quickly.
type WorkerSource interface {
	Workers() []Worker
}

// Readier is a WorkerSource that also says whether its workers are ready
// to serve; /readyz answers 503 with the error while one is not.
type Readier interface {
	Ready() error
}

// Hub is where the parts of one "gopaste serve" report and what its admin
// listener shows: the request series (filled by [Hub.Wrap] per mount and
// by forwarding parts per backend), the worker sources, and whether the
// server is serving. Every build of the config shares one Hub through
// the registry's pool ([From]), so it outlives reloads.
//
// A Hub is safe for concurrent use.
type Hub struct {
	// Stats are the request series.
	Stats Stats
	// Now is the clock; nil means time.Now. Set it before use.
	Now func() time.Time

	started time.Time
	state   atomic.Int32 // one of the state* constants

	mu      sync.Mutex
	sources []*source
}

type source struct {
	name string
	src  WorkerSource
}

const (
	stateStarting int32 = iota
	stateServing
	stateDraining
)

// NewHub returns an empty hub, its server not yet serving.
func NewHub() *Hub { return &Hub{started: time.Now()} }

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// poolKey is the key of the one hub in a registry pool.
const poolKey = "admin\x00hub"

// From returns the hub of the serve that builds c: the one kept in
// c.Pool, shared by every section and every build of the serve, so that
// the server section's admin listener shows what the app's parts
// report. Without a pool (gopaste check, tests) it returns a new hub
// that nothing shows.
func From(c *registry.Config) *Hub {
	if c.Pool == nil {
		return NewHub()
	}
	v, release, err := c.Pool.Acquire(poolKey, func() (any, error) { return NewHub(), nil })
	if err != nil {
		return NewHub() // NewHub neither fails nor panics
	}
	c.OnClose(closerFunc(release))
	h, ok := v.(*Hub)
	if !ok {
		return NewHub()
	}
	return h
}

// Register adds src to the hub of c's serve ([From]) under name (the
// section's name when empty) and removes it when c's build is closed: a
// reload's new build registers its sources, the old one's leave with it.
// It returns the hub, whose [Stats.Backend] series the part may fill.
func Register(c *registry.Config, name string, src WorkerSource) *Hub {
	if name == "" {
		name = c.Name
	}
	h := From(c)
	remove := h.AddSource(name, src)
	c.OnClose(closerFunc(func() error { remove(); return nil }))
	return h
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// AddSource adds a worker source under name and returns the func that
// removes it.
func (h *Hub) AddSource(name string, src WorkerSource) (remove func()) {
	s := &source{name: name, src: src}
	h.mu.Lock()
	h.sources = append(h.sources, s)
	h.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			h.sources = slices.DeleteFunc(h.sources, func(x *source) bool { return x == s })
			h.mu.Unlock()
		})
	}
}

func (h *Hub) sourceList() []*source {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.sources)
}

// SetServing marks the server as serving (true) or draining (false):
// what /healthz and /readyz answer.
func (h *Hub) SetServing(on bool) {
	if on {
		h.state.Store(stateServing)
	} else {
		h.state.Store(stateDraining)
	}
}

// Serving reports whether the server is serving and not draining.
func (h *Hub) Serving() bool { return h.state.Load() == stateServing }

// ErrNotServing is what Ready returns before the server listens and once
// it drains.
var ErrNotServing = errors.New("admin: the server is not serving")

// Ready returns nil when the server is serving and every worker source
// that reports readiness ([Readier]) is ready; otherwise why not. Of the
// sources registered under one name only the first is asked: during a
// reload that is the serving build's, while the new build's workers
// start; once the old build is closed, the new one's is the first.
func (h *Hub) Ready() error {
	switch h.state.Load() {
	case stateStarting:
		return fmt.Errorf("%w: starting", ErrNotServing)
	case stateDraining:
		return fmt.Errorf("%w: draining", ErrNotServing)
	}
	var errs []error
	asked := map[string]bool{}
	for _, s := range h.sourceList() {
		if asked[s.name] {
			continue // a reload's new build, not serving yet
		}
		asked[s.name] = true
		if r, ok := s.src.(Readier); ok {
			if err := r.Ready(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Snapshot is everything the admin listener shows at one moment;
// /status.json is its JSON.
type Snapshot struct {
	Time    time.Time `json:"time"`
	Started time.Time `json:"started"` // when the hub was made: the serve's start
	PID     int       `json:"pid"`
	Go      string    `json:"go_version"`
	// State is "starting", "serving" or "draining".
	State string `json:"state"`
	Ready bool   `json:"ready"`
	// NotReady says why Ready is false.
	NotReady string `json:"not_ready,omitempty"`
	// IntervalSeconds is the span of each point of the series (10).
	IntervalSeconds float64 `json:"interval_seconds"`
	// LatencyBounds are the histogram bounds in seconds of every
	// latency_counts, which has one more count (past the last bound).
	LatencyBounds []float64     `json:"latency_bounds_seconds"`
	Mounts        []SeriesStats `json:"mounts"`
	Backends      []SeriesStats `json:"backends"`
	Workers       []Worker      `json:"workers"`
}

// Snapshot gathers the hub's series and its sources' workers.
func (h *Hub) Snapshot() Snapshot {
	now := h.now()
	s := Snapshot{
		Time: now.UTC(), Started: h.started.UTC(), PID: os.Getpid(), Go: runtime.Version(),
		IntervalSeconds: Interval.Seconds(), LatencyBounds: LatencyBounds,
		Mounts: []SeriesStats{}, Backends: []SeriesStats{}, Workers: []Worker{},
	}
	s.State = [...]string{"starting", "serving", "draining"}[h.state.Load()]
	if err := h.Ready(); err != nil {
		s.NotReady = err.Error()
	} else {
		s.Ready = true
	}
	for _, m := range h.Stats.Mounts() {
		s.Mounts = append(s.Mounts, h.clip(m.Stats(now)))
	}
	for _, b := range h.Stats.Backends() {
		s.Backends = append(s.Backends, h.clip(b.Stats(now)))
	}
	for _, src := range h.sourceList() {
		for _, w := range src.src.Workers() {
			if w.Pool == "" {
				w.Pool = src.name
			}
			s.Workers = append(s.Workers, w)
		}
	}
	slices.SortStableFunc(s.Workers, func(a, b Worker) int {
		if a.Pool != b.Pool {
			if a.Pool < b.Pool {
				return -1
			}
			return 1
		}
		return a.PID - b.PID
	})
	return s
}

// clip counts only the time since the hub started in the points'
// Seconds, so that a server up for seconds shows its true rate.
func (h *Hub) clip(st SeriesStats) SeriesStats {
	for i, p := range st.Points {
		end := p.Start.Add(time.Duration(p.Seconds * float64(time.Second)))
		if h.started.After(p.Start) {
			st.Points[i].Seconds = max(end.Sub(h.started).Seconds(), 0)
			if p.Requests > 0 {
				st.Points[i].Seconds = max(st.Points[i].Seconds, 1) // a clock step: never divide by ~0
			}
		}
	}
	return st
}
