package admin

// This file carries a prefork worker's counts to its master, whose admin
// listener shows them: the worker's [Reporter] turns what its hub counted
// since the previous report into a [Report], and the master's
// [Hub.Merge] adds that to its own series, so that the master's
// /status, /status.json and /metrics count every worker's requests.

import (
	"net/http"
	"sync"
)

// Report is what a worker's hub counted since its previous report, and
// what the worker is doing.
type Report struct {
	// Requests is how many requests the worker served since it started.
	Requests uint64 `json:"requests"`
	// Current is the oldest request the worker is serving; nil when idle.
	Current  *Request      `json:"current,omitempty"`
	Mounts   []SeriesDelta `json:"mounts,omitempty"`
	Backends []SeriesDelta `json:"backends,omitempty"`
}

// SeriesDelta is what one series counted since the previous report.
type SeriesDelta struct {
	Name    string        `json:"name"`
	Windows []WindowDelta `json:"windows"`
}

// WindowDelta is what one 10-second window of a series counted since the
// previous report.
type WindowDelta struct {
	Slot     int64  `json:"slot"` // the window's start in Unix seconds / 10
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	Nanos    uint64 `json:"latency_sum_ns"`
	// Latency is the delta of each histogram bucket (LatencyBounds and
	// +Inf); shorter when the last buckets did not change.
	Latency []uint64 `json:"latency_counts,omitempty"`
}

const (
	// ReportWindows is how many of the latest windows a report looks
	// at: what a worker counted in a window a minute old and not yet
	// reported (its reports stalled for that long) is lost.
	ReportWindows = 6
	// MaxReportSeries bounds the series in one report, and so its
	// size (well under 512 KiB of JSON); the others' counts wait for
	// the next report.
	MaxReportSeries = 100
)

// Reporter makes a worker's reports from its hub. Track counts the
// requests in flight; Report may be called from one goroutine at a time.
type Reporter struct {
	hub *Hub

	sent map[sentKey]*windowCounts // what earlier reports carried, per window

	mu       sync.Mutex
	inflight map[*Request]struct{}
}

type sentKey struct {
	backend bool
	name    string
	slot    int64
}

// windowCounts is a plain copy of a window's counts.
type windowCounts struct {
	requests, errors, nanos uint64
	buckets                 [nBuckets]uint64
}

// NewReporter returns a reporter of h's series.
func NewReporter(h *Hub) *Reporter {
	return &Reporter{hub: h, sent: map[sentKey]*windowCounts{}, inflight: map[*Request]struct{}{}}
}

// Track returns next noting each request while it is served, for the
// reports' Current.
func (r *Reporter) Track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		cur := &Request{Method: req.Method, Path: req.URL.Path, Since: r.hub.now()}
		r.mu.Lock()
		r.inflight[cur] = struct{}{}
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			delete(r.inflight, cur)
			r.mu.Unlock()
		}()
		next.ServeHTTP(w, req)
	})
}

// Report returns what the hub counted since the previous call, at most
// MaxReportSeries series of it.
func (r *Reporter) Report() Report {
	now := r.hub.now()
	var rep Report
	r.mu.Lock()
	for req := range r.inflight {
		if rep.Current == nil || req.Since.Before(rep.Current.Since) {
			c := *req
			rep.Current = &c
		}
	}
	r.mu.Unlock()
	cur := slotOf(now)
	budget := MaxReportSeries
	for _, s := range r.hub.Stats.Mounts() {
		rep.Requests += s.total.requests.Load()
		if budget == 0 {
			continue
		}
		if d, ok := r.delta(false, s, cur); ok {
			rep.Mounts = append(rep.Mounts, d)
			budget--
		}
	}
	for _, s := range r.hub.Stats.Backends() {
		if budget == 0 {
			break
		}
		if d, ok := r.delta(true, s, cur); ok {
			rep.Backends = append(rep.Backends, d)
			budget--
		}
	}
	for k := range r.sent {
		if k.slot <= cur-ReportWindows {
			delete(r.sent, k)
		}
	}
	return rep
}

// delta returns what s's latest windows counted since they were last
// reported, and notes it as reported; false when nothing.
func (r *Reporter) delta(backend bool, s *Series, cur int64) (SeriesDelta, bool) {
	d := SeriesDelta{Name: s.name}
	for slot := max(cur-ReportWindows+1, 0); slot <= cur; slot++ {
		w := &s.ring[slot%Windows]
		if w.slot.Load() != slot {
			continue
		}
		var now windowCounts
		now.requests, now.errors, now.nanos = w.requests.Load(), w.errors.Load(), w.nanos.Load()
		for i := range w.buckets {
			now.buckets[i] = w.buckets[i].Load()
		}
		if w.slot.Load() != slot {
			continue // zeroed for a newer slot meanwhile
		}
		k := sentKey{backend, s.name, slot}
		was := r.sent[k]
		if was == nil {
			was = &windowCounts{}
			r.sent[k] = was
		}
		// Each count only grows within a slot; one read while a request
		// is being added may be partial, and the rest goes next time.
		wd := WindowDelta{Slot: slot, Requests: now.requests - was.requests, Errors: now.errors - was.errors, Nanos: now.nanos - was.nanos}
		for i := range now.buckets {
			if n := now.buckets[i] - was.buckets[i]; n > 0 {
				wd.Latency = append(wd.Latency, make([]uint64, i+1-len(wd.Latency))...)
				wd.Latency[i] = n
			}
		}
		if wd.Requests == 0 && wd.Errors == 0 && wd.Nanos == 0 && wd.Latency == nil {
			continue
		}
		*was = now
		d.Windows = append(d.Windows, wd)
	}
	return d, len(d.Windows) > 0
}

// Merge adds a worker's report to h's series. Windows more than 15
// minutes old count in the totals only.
func (h *Hub) Merge(rep Report) {
	for _, d := range rep.Mounts {
		h.Stats.Mount(d.Name).merge(d.Windows)
	}
	for _, d := range rep.Backends {
		h.Stats.Backend(d.Name).merge(d.Windows)
	}
}

func (s *Series) merge(ws []WindowDelta) {
	for _, wd := range ws {
		if wd.Slot < 0 || len(wd.Latency) > nBuckets {
			continue // not from a Reporter
		}
		s.total.addDelta(wd)
		if w := s.window(wd.Slot); w != nil {
			w.addDelta(wd)
		}
	}
}

func (c *counts) addDelta(wd WindowDelta) {
	c.requests.Add(wd.Requests)
	c.errors.Add(wd.Errors)
	c.nanos.Add(wd.Nanos)
	for i, n := range wd.Latency {
		c.buckets[i].Add(n)
	}
}
