package admin

// This file implements the request counters: one Series per mount and per
// backend, each a ring of 10-second windows plus running totals, written
// with atomics only.

import (
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// Interval is the span of one window of a [Series].
	Interval = 10 * time.Second
	// Windows is how many windows a Series keeps: 15 minutes.
	Windows = 90
	// MaxSeries caps the series of one kind (mounts, backends); requests
	// for names beyond it are counted under [OtherSeries].
	MaxSeries = 200
	// OtherSeries names the series that takes names past MaxSeries.
	OtherSeries = "(other)"
)

// LatencyBounds are the upper bounds, in seconds, of the latency
// histogram every series keeps; a last bucket (+Inf) takes the rest.
var LatencyBounds = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// nBuckets is len(LatencyBounds)+1 (the +Inf bucket).
const nBuckets = 15

var boundNanos = func() [nBuckets - 1]int64 {
	var b [nBuckets - 1]int64
	for i, s := range LatencyBounds {
		b[i] = int64(s * 1e9)
	}
	return b
}()

func bucketOf(d time.Duration) int {
	n := int64(d)
	for i, b := range boundNanos {
		if n <= b {
			return i
		}
	}
	return nBuckets - 1
}

// counts is what a window and the totals hold.
type counts struct {
	requests atomic.Uint64
	errors   atomic.Uint64
	nanos    atomic.Uint64 // latency sum
	buckets  [nBuckets]atomic.Uint64
}

func (c *counts) add(b int, d time.Duration, isErr bool) {
	c.requests.Add(1)
	if isErr {
		c.errors.Add(1)
	}
	if d > 0 {
		c.nanos.Add(uint64(d))
	}
	c.buckets[b].Add(1)
}

func (c *counts) zero() {
	c.requests.Store(0)
	c.errors.Store(0)
	c.nanos.Store(0)
	for i := range c.buckets {
		c.buckets[i].Store(0)
	}
}

// resetting marks a window being zeroed for a new slot.
const resetting = math.MinInt64

// window counts the requests of one 10-second slot (Unix time / 10).
type window struct {
	slot atomic.Int64
	counts
}

// Series counts the requests of one mount or backend: totals since it
// was made, and the last 15 minutes in 10-second windows. It is safe for
// concurrent use; Observe takes no lock.
type Series struct {
	name  string
	total counts
	ring  [Windows]window
}

func newSeries(name string) *Series {
	s := &Series{name: name}
	for i := range s.ring {
		s.ring[i].slot.Store(-1)
	}
	return s
}

// Name returns the mount or backend the series counts.
func (s *Series) Name() string { return s.name }

// Observe counts one request that ended at end, took d and answered
// status; a status of 500 or more counts as an error.
func (s *Series) Observe(end time.Time, status int, d time.Duration) {
	b := bucketOf(d)
	isErr := status >= 500
	s.total.add(b, d, isErr)
	if w := s.window(slotOf(end)); w != nil {
		w.add(b, d, isErr)
	}
}

// slotOf returns the window slot of t: Unix time / 10.
func slotOf(t time.Time) int64 { return t.Unix() / int64(Interval/time.Second) }

// window returns the ring's window for slot, zeroing it when it held an
// older slot; nil when it already holds a newer one (slot is more than
// 15 minutes old: counted in the totals only).
func (s *Series) window(slot int64) *window {
	w := &s.ring[slot%Windows]
	for {
		cur := w.slot.Load()
		if cur == slot {
			return w
		}
		if cur == resetting {
			runtime.Gosched() // another request is zeroing it: a few stores
			continue
		}
		if cur > slot {
			return nil
		}
		if w.slot.CompareAndSwap(cur, resetting) {
			w.zero()
			w.slot.Store(slot)
			return w
		}
	}
}

// Point is one window of a series.
type Point struct {
	Start time.Time `json:"start"`
	// Seconds is how much of the window has passed: 10, or less for the
	// window in progress and (in a Hub's Snapshot) for windows before
	// the server started. Rates divide by it.
	Seconds  float64 `json:"seconds"`
	Requests uint64  `json:"requests"`
	Errors   uint64  `json:"errors"`
	// LatencySum is the sum of the requests' durations, in seconds.
	LatencySum float64 `json:"latency_sum_seconds"`
	// Latency counts the requests per bucket of LatencyBounds (the last
	// one past the last bound).
	Latency []uint64 `json:"latency_counts"`
}

// SeriesStats is a series at one moment.
type SeriesStats struct {
	Name       string   `json:"name"`
	Requests   uint64   `json:"requests"` // since the series was made
	Errors     uint64   `json:"errors"`
	LatencySum float64  `json:"latency_sum_seconds"`
	Latency    []uint64 `json:"latency_counts"`
	// Points are the last 15 minutes, oldest first, one per 10 seconds;
	// the last one is the window in progress.
	Points []Point `json:"points"`
}

func (c *counts) load() (req, errs uint64, sum float64, lat []uint64) {
	lat = make([]uint64, nBuckets)
	for i := range c.buckets {
		lat[i] = c.buckets[i].Load()
	}
	return c.requests.Load(), c.errors.Load(), float64(c.nanos.Load()) / 1e9, lat
}

// Stats returns the series as of now.
func (s *Series) Stats(now time.Time) SeriesStats {
	st := SeriesStats{Name: s.name}
	st.Requests, st.Errors, st.LatencySum, st.Latency = s.total.load()
	step := int64(Interval / time.Second)
	cur := now.Unix() / step
	for slot := cur - Windows + 1; slot <= cur; slot++ {
		p := Point{Start: time.Unix(slot*step, 0).UTC(), Seconds: float64(step), Latency: make([]uint64, nBuckets)}
		if slot == cur {
			p.Seconds = max(now.Sub(p.Start).Seconds(), 1)
		}
		if slot >= 0 {
			w := &s.ring[slot%Windows]
			if w.slot.Load() == slot {
				p.Requests, p.Errors, p.LatencySum, p.Latency = w.load()
			}
		}
		st.Points = append(st.Points, p)
	}
	return st
}

// Stats holds the series of one server: one per mount, one per backend.
// It is safe for concurrent use; looking up a series that exists takes
// no lock.
type Stats struct {
	mounts, backends family
}

// family is the series of one kind, by name.
type family struct {
	m  sync.Map // name → *Series
	mu sync.Mutex
	n  int
}

func (f *family) get(name string) *Series {
	if s, ok := f.m.Load(name); ok {
		return s.(*Series)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.m.Load(name); ok {
		return s.(*Series)
	}
	if f.n >= MaxSeries && name != OtherSeries {
		name = OtherSeries
		if s, ok := f.m.Load(name); ok {
			return s.(*Series)
		}
	}
	s := newSeries(name)
	f.m.Store(name, s)
	f.n++
	return s
}

func (f *family) all() []*Series {
	var out []*Series
	f.m.Range(func(_, v any) bool {
		out = append(out, v.(*Series))
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Mount returns the series of the mount whose script name is name ("/"
// for the root), making it on first use.
func (st *Stats) Mount(name string) *Series { return st.mounts.get(name) }

// Backend returns the series of backend name (an address, a worker
// pool), making it on first use. Parts that forward requests count each
// answer with its Observe.
func (st *Stats) Backend(name string) *Series { return st.backends.get(name) }

// Mounts returns the mounts' series, sorted by name.
func (st *Stats) Mounts() []*Series { return st.mounts.all() }

// Backends returns the backends' series, sorted by name.
func (st *Stats) Backends() []*Series { return st.backends.all() }

// Quantile estimates the q-quantile (0 < q < 1) of a latency histogram
// as Prometheus's histogram_quantile does: linearly within the bucket
// that holds it. It returns 0 for an empty histogram and the last bound
// when the quantile falls past it.
func Quantile(q float64, latency []uint64) float64 {
	var total uint64
	for _, n := range latency {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen uint64
	for i, n := range latency {
		if float64(seen+n) >= rank && n > 0 {
			if i >= len(LatencyBounds) {
				return LatencyBounds[len(LatencyBounds)-1]
			}
			lo := 0.0
			if i > 0 {
				lo = LatencyBounds[i-1]
			}
			hi := LatencyBounds[i]
			return lo + (hi-lo)*(rank-float64(seen))/float64(n)
		}
		seen += n
	}
	return LatencyBounds[len(LatencyBounds)-1]
}
