package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	return rec
}

func TestHealthAndReady(t *testing.T) {
	hub := NewHub()
	src := &fakeSource{}
	hub.AddSource("api", src)
	h := hub.Handler()
	for _, tc := range []struct {
		name           string
		set            func()
		health, ready  int
		readyBodyMatch string
	}{
		{"starting", func() {}, 503, 503, "starting"},
		{"serving", func() { hub.SetServing(true) }, 200, 200, "ready"},
		{"workers starting", func() { src.setReady(errStarting) }, 200, 503, "api: 1 worker starting"},
		{"draining", func() { src.setReady(nil); hub.SetServing(false) }, 503, 503, "draining"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.set()
			if rec := get(t, h, "/healthz"); rec.Code != tc.health {
				t.Errorf("/healthz %d, want %d", rec.Code, tc.health)
			}
			rec := get(t, h, "/readyz")
			if rec.Code != tc.ready || !strings.Contains(rec.Body.String(), tc.readyBodyMatch) {
				t.Errorf("/readyz %d %q, want %d and %q", rec.Code, rec.Body, tc.ready, tc.readyBodyMatch)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	hub, _ := fixture(t)
	rec := get(t, hub.Handler(), "/status.json")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	// The field names are documented in docs/status.md.
	var raw map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"time", "started", "pid", "go_version", "state", "ready", "interval_seconds", "latency_bounds_seconds", "mounts", "backends", "workers"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in status.json", k)
		}
	}
	var s Snapshot
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Mounts) != 3 || len(s.Mounts[0].Points) != Windows || len(s.Workers) != 6 || s.Workers[0].Current == nil {
		t.Errorf("decoded: %d mounts, %d points, %d workers", len(s.Mounts), len(s.Mounts[0].Points), len(s.Workers))
	}
	if s.Workers[0].Current.Path != "/api/orders?page=2" || !s.Ready || s.State != "serving" {
		t.Errorf("worker 0 %+v, ready %v, state %q", s.Workers[0], s.Ready, s.State)
	}
}

func TestMetrics(t *testing.T) {
	hub, _ := fixture(t)
	rec := get(t, hub.Handler(), "/metrics")
	if rec.Code != 200 {
		t.Fatalf("/metrics %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`gopaste_requests_total{mount="/api"}`,
		`gopaste_request_errors_total{mount="/api"}`,
		`gopaste_request_duration_seconds_bucket{mount="/",le="0.0005"}`,
		`gopaste_request_duration_seconds_count{mount="/blog"}`,
		`gopaste_backend_requests_total{backend="127.0.0.1:9001"}`,
		`gopaste_backend_errors_total{backend="127.0.0.1:9002"}`,
		`gopaste_backend_request_duration_seconds_sum{backend="127.0.0.1:9001"}`,
		`gopaste_workers{pool="api",state="busy"} 2`,
		`gopaste_worker_requests{pid="41873",pool="api"} 8123`,
		`gopaste_worker_rss_bytes{pid="52210",pool="api"} 1.37363456e+08`,
		"gopaste_ready 1",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("%.3000s", body)
	}

	// The whole scrape must parse with Prometheus's own parser, each
	// histogram consistent with its counter.
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus's parser: %v", err)
	}
	for name, typ := range map[string]dto.MetricType{
		"gopaste_requests_total":           dto.MetricType_COUNTER,
		"gopaste_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"gopaste_workers":                  dto.MetricType_GAUGE,
		"gopaste_ready":                    dto.MetricType_GAUGE,
		"go_goroutines":                    dto.MetricType_GAUGE,
		"process_cpu_seconds_total":        dto.MetricType_COUNTER,
	} {
		if f := fams[name]; f == nil || f.GetType() != typ {
			t.Errorf("%s: %v, want type %v", name, f, typ)
		}
	}
	for _, s := range hub.Stats.Mounts() {
		n, _, _, _ := s.total.load()
		var hist *dto.Histogram
		for _, m := range fams["gopaste_request_duration_seconds"].GetMetric() {
			if m.GetLabel()[0].GetValue() == s.name {
				hist = m.GetHistogram()
			}
		}
		if hist == nil || hist.GetSampleCount() != n || len(hist.GetBucket()) != len(LatencyBounds)+1 {
			t.Errorf("mount %s: histogram %v, want count %d and %d buckets", s.name, hist, n, len(LatencyBounds)+1)
		}
	}
}

func TestMetricsEscaping(t *testing.T) {
	hub := NewHub()
	hub.AddSource("odd", &fakeSource{workers: []Worker{
		{Pool: "a\"b\nc\\", PID: 7, State: "idle", Requests: 3},
	}})
	rec := get(t, hub.Handler(), "/metrics")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("Prometheus's parser: %v", err)
	}
	ms := fams["gopaste_worker_requests"].GetMetric()
	if len(ms) != 1 {
		t.Fatalf("gopaste_worker_requests: %v", ms)
	}
	for _, l := range ms[0].GetLabel() {
		if l.GetName() == "pool" && l.GetValue() != "a\"b\nc\\" {
			t.Errorf("pool label read back as %q", l.GetValue())
		}
	}
	if got := ms[0].GetGauge().GetValue(); got != 3 {
		t.Errorf("value %v, want 3", got)
	}
}

func TestStatusPage(t *testing.T) {
	hub, _ := fixture(t)
	rec := get(t, hub.Handler(), "/status")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	body := rec.Body.String()
	// 5 series, three charts each; six workers.
	if n := strings.Count(body, "<svg "); n != 15 {
		t.Errorf("%d charts, want 15", n)
	}
	if n := strings.Count(body, "<polyline points=\""); n != 15 {
		t.Errorf("%d lines, want 15", n)
	}
	for _, want := range []string{`<table id="workers">`, "POST /api/report", "42s", "131.0 MiB", "3h00m",
		`http-equiv="refresh" content="10"`, "<script"} {
		if has := strings.Contains(body, want); has != (want != "<script") {
			t.Errorf("page contains %q: %v", want, has)
		}
	}
	if strings.Count(body, `class="n long"`) != 1 {
		t.Error("the 42s request is not marked long")
	}
	if body := get(t, hub.Handler(), "/status?refresh=0").Body.String(); strings.Contains(body, "http-equiv") {
		t.Error("refresh=0 still refreshes")
	}
	if rec := get(t, hub.Handler(), "/status?refresh=x"); rec.Code != 400 {
		t.Errorf("refresh=x: %d", rec.Code)
	}
	if rec := get(t, hub.Handler(), "/"); rec.Code != 302 || rec.Header().Get("Location") != "/status" {
		t.Errorf("/: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	rec = httptest.NewRecorder()
	hub.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/status", nil))
	if rec.Code != 405 {
		t.Errorf("POST /status: %d", rec.Code)
	}
}

// TestStatusPageEscapes: names from config and request paths from
// workers are escaped.
func TestStatusPageEscapes(t *testing.T) {
	hub := NewHub()
	hub.Stats.Mount("/<b>x").Observe(hub.now(), 200, 0)
	hub.AddSource("p", &fakeSource{workers: []Worker{{PID: 1, State: "busy", Current: &Request{Method: "GET", Path: "/<script>alert(1)</script>", Since: hub.now()}}}})
	body := get(t, hub.Handler(), "/status").Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>x") {
		t.Errorf("unescaped:\n%s", body)
	}
}

func TestChartScale(t *testing.T) {
	c := newChart([]float64{0, 5, 10}, "#000", "t", func(f float64) string { return "v" })
	// x from 1 to 159, y from the bottom (38) to the top (14).
	if c.Line != "1.0,38.0 80.0,26.0 159.0,14.0" {
		t.Errorf("line %q", c.Line)
	}
	if c.Max != "max v" || !strings.HasPrefix(c.Area, "1.0,38.0 1.0,38.0") || !strings.HasSuffix(c.Area, "159.0,38.0") {
		t.Errorf("max %q area %q", c.Max, c.Area)
	}
	flat := newChart(make([]float64, 4), "#000", "t", func(float64) string { return "0" })
	if strings.Contains(flat.Line, "NaN") || flat.Line != "1.0,38.0 53.7,38.0 106.3,38.0 159.0,38.0" {
		t.Errorf("flat line %q", flat.Line)
	}
}
