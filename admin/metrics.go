package admin

// This file exports the hub to Prometheus: a collector reading the same
// atomics the status page reads, so the hot path pays nothing more.

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

var (
	descRequests = prometheus.NewDesc("gopaste_requests_total",
		"Requests answered, by mount (the script name of the urlmap prefix; / for the root).", []string{"mount"}, nil)
	descErrors = prometheus.NewDesc("gopaste_request_errors_total",
		"Requests answered with a 5xx status, by mount.", []string{"mount"}, nil)
	descDuration = prometheus.NewDesc("gopaste_request_duration_seconds",
		"Time from the request reaching the server to the handler's return, by mount.", []string{"mount"}, nil)
	descBackendRequests = prometheus.NewDesc("gopaste_backend_requests_total",
		"Requests forwarded to a backend, by backend.", []string{"backend"}, nil)
	descBackendErrors = prometheus.NewDesc("gopaste_backend_errors_total",
		"Requests a backend answered with a 5xx status or did not answer, by backend.", []string{"backend"}, nil)
	descBackendDuration = prometheus.NewDesc("gopaste_backend_request_duration_seconds",
		"Time a backend took to answer, by backend.", []string{"backend"}, nil)
	descWorkers = prometheus.NewDesc("gopaste_workers",
		"Worker processes, by pool and state.", []string{"pool", "state"}, nil)
	descWorkerRequests = prometheus.NewDesc("gopaste_worker_requests",
		"Requests a worker process has served since it started.", []string{"pool", "pid"}, nil)
	descWorkerRSS = prometheus.NewDesc("gopaste_worker_rss_bytes",
		"Resident memory of a worker process.", []string{"pool", "pid"}, nil)
	descReady = prometheus.NewDesc("gopaste_ready",
		"1 when the server serves and its workers are ready (what /readyz says), else 0.", nil, nil)
)

// collector is the hub as a prometheus.Collector.
type collector struct{ h *Hub }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descErrors, descDuration,
		descBackendRequests, descBackendErrors, descBackendDuration,
		descWorkers, descWorkerRequests, descWorkerRSS, descReady} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	series := func(list []*Series, req, errs, dur *prometheus.Desc) {
		for _, s := range list {
			n, e, sum, lat := s.total.load()
			ch <- prometheus.MustNewConstMetric(req, prometheus.CounterValue, float64(n), s.name)
			ch <- prometheus.MustNewConstMetric(errs, prometheus.CounterValue, float64(e), s.name)
			buckets := make(map[float64]uint64, len(LatencyBounds))
			var cum uint64
			for i, b := range LatencyBounds {
				cum += lat[i]
				buckets[b] = cum
			}
			ch <- prometheus.MustNewConstHistogram(dur, cum+lat[len(lat)-1], sum, buckets, s.name)
		}
	}
	series(c.h.Stats.Mounts(), descRequests, descErrors, descDuration)
	series(c.h.Stats.Backends(), descBackendRequests, descBackendErrors, descBackendDuration)

	type poolState struct{ pool, state string }
	states := map[poolState]int{}
	seen := map[poolState]bool{} // pool and pid: a metric's labels must be unique
	for _, src := range c.h.sourceList() {
		for _, w := range src.src.Workers() {
			if w.Pool == "" {
				w.Pool = src.name
			}
			pid := strconv.Itoa(w.PID)
			if seen[poolState{w.Pool, pid}] {
				continue
			}
			seen[poolState{w.Pool, pid}] = true
			states[poolState{w.Pool, w.State}]++
			ch <- prometheus.MustNewConstMetric(descWorkerRequests, prometheus.GaugeValue, float64(w.Requests), w.Pool, pid)
			ch <- prometheus.MustNewConstMetric(descWorkerRSS, prometheus.GaugeValue, float64(w.RSS), w.Pool, pid)
		}
	}
	for k, n := range states {
		ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(n), k.pool, k.state)
	}
	ready := 0.0
	if c.h.Ready() == nil {
		ready = 1
	}
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, ready)
}

// newRegistry returns a Prometheus registry (not the global one) with the
// hub's metrics and the Go runtime's and the process's.
func newRegistry(h *Hub) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{h},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

var _ prometheus.Collector = collector{}
