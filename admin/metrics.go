package admin

// This file writes the hub in the Prometheus text exposition format
// (version 0.0.4), reading the same atomics the status page reads, so the
// hot path pays nothing more. The Go runtime's go_* and the process's
// process_* metrics come from github.com/VictoriaMetrics/metrics: the
// client_golang registry did the same with protobuf descriptors that every
// gopaste process loaded at start, 2.8 MiB of idle RSS (docs/benchmarks.md,
// "Idle memory: the drivers").

import (
	"bytes"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/VictoriaMetrics/metrics"
)

// A metricFamily is one metric's name, type and help text.
type metricFamily struct{ name, typ, help string }

var (
	famRequests = metricFamily{"gopaste_requests_total", "counter",
		"Requests answered, by mount (the script name of the urlmap prefix; / for the root)."}
	famErrors = metricFamily{"gopaste_request_errors_total", "counter",
		"Requests answered with a 5xx status, by mount."}
	famDuration = metricFamily{"gopaste_request_duration_seconds", "histogram",
		"Time from the request reaching the server to the handler's return, by mount."}
	famBackendRequests = metricFamily{"gopaste_backend_requests_total", "counter",
		"Requests forwarded to a backend, by backend."}
	famBackendErrors = metricFamily{"gopaste_backend_errors_total", "counter",
		"Requests a backend answered with a 5xx status or did not answer, by backend."}
	famBackendDuration = metricFamily{"gopaste_backend_request_duration_seconds", "histogram",
		"Time a backend took to answer, by backend."}
	famWorkers = metricFamily{"gopaste_workers", "gauge",
		"Worker processes, by pool and state."}
	famWorkerRequests = metricFamily{"gopaste_worker_requests", "gauge",
		"Requests a worker process has served since it started."}
	famWorkerRSS = metricFamily{"gopaste_worker_rss_bytes", "gauge",
		"Resident memory of a worker process."}
	famReady = metricFamily{"gopaste_ready", "gauge",
		"1 when the server serves and its workers are ready (what /readyz says), else 0."}
)

func init() {
	// TYPE lines for go_* and process_* too (a setting of that package,
	// which nothing else in gopaste uses).
	metrics.ExposeMetadata(true)
}

func (h *Hub) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	h.writeMetrics(&b)
	metrics.WriteProcessMetrics(&b)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes()) // the client may be gone: nothing to do
}

// writeMetrics writes the hub's own families to b.
func (h *Hub) writeMetrics(b *bytes.Buffer) {
	series := func(list []*Series, label string, req, errs, dur metricFamily) {
		type row struct {
			name      string
			n, e      uint64
			sum       float64
			latencies []uint64
		}
		rows := make([]row, len(list))
		for i, s := range list {
			rows[i].name = s.name
			rows[i].n, rows[i].e, rows[i].sum, rows[i].latencies = s.total.load()
		}
		writeHead(b, req)
		for _, r := range rows {
			writeSample(b, req.name, float64(r.n), label, r.name)
		}
		writeHead(b, errs)
		for _, r := range rows {
			writeSample(b, errs.name, float64(r.e), label, r.name)
		}
		writeHead(b, dur)
		for _, r := range rows {
			var cum uint64
			for i, bound := range LatencyBounds {
				cum += r.latencies[i]
				writeSample(b, dur.name+"_bucket", float64(cum), label, r.name, "le", formatFloat(bound))
			}
			cum += r.latencies[len(r.latencies)-1]
			writeSample(b, dur.name+"_bucket", float64(cum), label, r.name, "le", "+Inf")
			writeSample(b, dur.name+"_sum", r.sum, label, r.name)
			writeSample(b, dur.name+"_count", float64(cum), label, r.name)
		}
	}
	series(h.Stats.Mounts(), "mount", famRequests, famErrors, famDuration)
	series(h.Stats.Backends(), "backend", famBackendRequests, famBackendErrors, famBackendDuration)

	type poolState struct{ pool, state string }
	type worker struct {
		pool, pid     string
		requests, rss float64
	}
	states := map[poolState]int{}
	var workers []worker
	seen := map[[2]string]bool{} // pool and pid: a series' labels must be unique
	for _, src := range h.sourceList() {
		for _, w := range src.src.Workers() {
			if w.Pool == "" {
				w.Pool = src.name
			}
			pid := strconv.Itoa(w.PID)
			if seen[[2]string{w.Pool, pid}] {
				continue
			}
			seen[[2]string{w.Pool, pid}] = true
			states[poolState{w.Pool, w.State}]++
			workers = append(workers, worker{w.Pool, pid, float64(w.Requests), float64(w.RSS)})
		}
	}
	keys := make([]poolState, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b poolState) int {
		return strings.Compare(a.pool+"\x00"+a.state, b.pool+"\x00"+b.state)
	})
	writeHead(b, famWorkers)
	for _, k := range keys {
		writeSample(b, famWorkers.name, float64(states[k]), "pool", k.pool, "state", k.state)
	}
	writeHead(b, famWorkerRequests)
	for _, w := range workers {
		writeSample(b, famWorkerRequests.name, w.requests, "pid", w.pid, "pool", w.pool)
	}
	writeHead(b, famWorkerRSS)
	for _, w := range workers {
		writeSample(b, famWorkerRSS.name, w.rss, "pid", w.pid, "pool", w.pool)
	}
	ready := 0.0
	if h.Ready() == nil {
		ready = 1
	}
	writeHead(b, famReady)
	writeSample(b, famReady.name, ready)
}

var (
	// In HELP text a backslash and a line feed are escaped; in a label
	// value a double quote too.
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func writeHead(b *bytes.Buffer, f metricFamily) {
	b.WriteString("# HELP " + f.name + " " + helpEscaper.Replace(f.help) + "\n")
	b.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
}

// writeSample writes one line: name, the labels given as name/value pairs
// in that order, and v.
func writeSample(b *bytes.Buffer, name string, v float64, labels ...string) {
	b.WriteString(name)
	for i := 0; i+1 < len(labels); i += 2 {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(labels[i] + `="` + labelEscaper.Replace(labels[i+1]) + `"`)
	}
	if len(labels) > 0 {
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
}

// formatFloat writes v as Prometheus reads it: the shortest exact form,
// +Inf, -Inf or NaN.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
