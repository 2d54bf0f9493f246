package admin

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// fakeSource is a WorkerSource with set workers and readiness.
type fakeSource struct {
	mu      sync.Mutex
	workers []Worker
	err     error
}

func (f *fakeSource) Workers() []Worker {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Worker(nil), f.workers...)
}

func (f *fakeSource) Ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *fakeSource) setReady(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// fixtureNow is the fixed clock of the fixture: 7 s into a window.
var fixtureNow = time.Date(2026, 12, 6, 10, 30, 7, 0, time.UTC)

// fixture returns a serving hub with 15 minutes of traffic on three
// mounts and two backends, a process pool of four workers (one stuck on
// a long request) and two prefork workers: what the status page of a
// busy server shows.
func fixture(t testing.TB) (*Hub, *fakeSource) {
	t.Helper()
	h := NewHub()
	h.started = fixtureNow.Add(-3*time.Hour - 12*time.Minute)
	h.Now = func() time.Time { return fixtureNow }
	rng := rand.New(rand.NewPCG(1, 2))
	type load struct {
		name    string
		backend bool
		rate    func(i int) float64 // requests per second in window i (0 oldest)
		errs    func(i int) float64 // share of 5xx
		lat     float64             // median latency, seconds
	}
	loads := []load{
		{"/", false, func(i int) float64 { return 40 + 15*math.Sin(float64(i)/9) }, func(int) float64 { return 0.002 }, 0.0008},
		{"/api", false, func(i int) float64 { return 12 + 6*math.Sin(float64(i)/5+1) }, func(i int) float64 {
			if i > 55 && i < 64 {
				return 0.12 // a backend fell over for a minute
			}
			return 0.005
		}, 0.012},
		{"/blog", false, func(i int) float64 { return 3 + 2*math.Cos(float64(i)/7) }, func(int) float64 { return 0 }, 0.004},
		{"127.0.0.1:9001", true, func(i int) float64 { return 6 + 3*math.Sin(float64(i)/5+1) }, func(i int) float64 {
			if i > 55 && i < 64 {
				return 0.24
			}
			return 0.004
		}, 0.010},
		{"127.0.0.1:9002", true, func(i int) float64 { return 6 + 3*math.Sin(float64(i)/5+1.3) }, func(int) float64 { return 0.004 }, 0.011},
	}
	step := int64(Interval / time.Second)
	cur := fixtureNow.Unix() / step
	for _, l := range loads {
		var s *Series
		if l.backend {
			s = h.Stats.Backend(l.name)
		} else {
			s = h.Stats.Mount(l.name)
		}
		for i := 0; i < Windows; i++ {
			slot := cur - Windows + 1 + int64(i)
			secs := 10.0
			if i == Windows-1 {
				secs = 7
			}
			n := int(l.rate(i) * secs)
			for k := 0; k < n; k++ {
				end := time.Unix(slot*step, 0).Add(time.Duration(rng.Float64() * secs * float64(time.Second)))
				d := time.Duration(l.lat * math.Exp(rng.NormFloat64()*0.8) * float64(time.Second))
				status := 200
				if rng.Float64() < l.errs(i) {
					status = 502
				}
				s.Observe(end, status, d)
			}
		}
	}
	src := &fakeSource{workers: []Worker{
		{PID: 41873, State: "busy", Requests: 8123, RSS: 48 << 20, Started: fixtureNow.Add(-3 * time.Hour),
			Current: &Request{Method: "GET", Path: "/api/orders?page=2", Since: fixtureNow.Add(-180 * time.Millisecond)}},
		{PID: 41874, State: "ready", Requests: 8040, RSS: 47 << 20, Started: fixtureNow.Add(-3 * time.Hour)},
		{PID: 52210, State: "busy", Requests: 211, RSS: 131 << 20, Started: fixtureNow.Add(-9 * time.Minute),
			Current: &Request{Method: "POST", Path: "/api/report", Since: fixtureNow.Add(-42 * time.Second)}},
		{PID: 52288, State: "starting", Started: fixtureNow.Add(-2 * time.Second)},
	}}
	h.AddSource("api", src)
	h.AddSource("prefork", &fakeSource{workers: []Worker{
		{PID: 41850, State: "ready", Requests: 61230, RSS: 22 << 20, Started: fixtureNow.Add(-3*time.Hour - 12*time.Minute)},
		{PID: 41851, State: "busy", Requests: 60988, RSS: 23 << 20, Started: fixtureNow.Add(-3*time.Hour - 12*time.Minute),
			Current: &Request{Method: "GET", Path: "/blog/2026/12/status-pages", Since: fixtureNow.Add(-3 * time.Millisecond)}},
	}})
	h.SetServing(true)
	return h, src
}

var errStarting = errors.New("1 worker starting")
