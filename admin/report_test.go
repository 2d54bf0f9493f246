package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReportMerge: two workers' reports, merged into the master's hub,
// give the master the sum of their series; a report carries only what
// the previous one did not.
func TestReportMerge(t *testing.T) {
	now := time.Unix(1_800_000_005, 0)
	clock := func() time.Time { return now }
	master := &Hub{Now: clock, started: now.Add(-time.Hour)}
	var workers []*Hub
	var reporters []*Reporter
	for range 2 {
		h := &Hub{Now: clock, started: now.Add(-time.Hour)}
		workers = append(workers, h)
		reporters = append(reporters, NewReporter(h))
	}
	merge := func(i int) Report {
		rep := reporters[i].Report()
		// The report crosses a pipe as JSON.
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		var got Report
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		master.Merge(got)
		return got
	}
	workers[0].Stats.Mount("/").Observe(now, 200, 3*time.Millisecond)
	workers[0].Stats.Mount("/").Observe(now, 502, 300*time.Millisecond)
	workers[1].Stats.Mount("/").Observe(now, 200, time.Millisecond)
	workers[1].Stats.Backend("127.0.0.1:9000").Observe(now, 200, time.Millisecond)
	if rep := merge(0); rep.Requests != 2 || len(rep.Mounts) != 1 {
		t.Errorf("worker 0's report: %+v", rep)
	}
	merge(1)
	if rep := merge(0); rep.Requests != 2 || len(rep.Mounts)+len(rep.Backends) != 0 {
		t.Errorf("a second report without new requests: %+v", rep)
	}
	now = now.Add(Interval) // the next window
	workers[1].Stats.Mount("/").Observe(now, 200, time.Millisecond)
	merge(1)

	// The master counts what one hub observing every request counts.
	want := &Hub{Now: clock, started: now.Add(-time.Hour)}
	for _, o := range []struct {
		end    time.Time
		status int
		d      time.Duration
	}{
		{now.Add(-Interval), 200, 3 * time.Millisecond},
		{now.Add(-Interval), 502, 300 * time.Millisecond},
		{now.Add(-Interval), 200, time.Millisecond},
		{now, 200, time.Millisecond},
	} {
		want.Stats.Mount("/").Observe(o.end, o.status, o.d)
	}
	want.Stats.Backend("127.0.0.1:9000").Observe(now.Add(-Interval), 200, time.Millisecond)
	got, wantSnap := master.Snapshot(), want.Snapshot()
	if diff := cmp.Diff(wantSnap.Mounts, got.Mounts); diff != "" {
		t.Errorf("mounts (-one hub +merged):\n%s", diff)
	}
	if diff := cmp.Diff(wantSnap.Backends, got.Backends); diff != "" {
		t.Errorf("backends (-one hub +merged):\n%s", diff)
	}
	if got.Mounts[0].Requests != 4 || got.Mounts[0].Errors != 1 {
		t.Errorf("merged totals: %d requests, %d errors; want 4, 1", got.Mounts[0].Requests, got.Mounts[0].Errors)
	}
}

// TestReportBounded: a report carries at most MaxReportSeries series;
// the rest come in the next one.
func TestReportBounded(t *testing.T) {
	now := time.Unix(1_800_000_005, 0)
	h := &Hub{Now: func() time.Time { return now }}
	for i := range MaxReportSeries + 20 {
		h.Stats.Mount(fmt.Sprintf("/m%d", i)).Observe(now, 200, time.Millisecond)
	}
	r := NewReporter(h)
	first, second := r.Report(), r.Report()
	if len(first.Mounts) != MaxReportSeries || len(second.Mounts) != 20 {
		t.Errorf("reports carry %d and %d series, want %d and 20", len(first.Mounts), len(second.Mounts), MaxReportSeries)
	}
	if first.Requests != MaxReportSeries+20 {
		t.Errorf("Requests = %d, want %d", first.Requests, MaxReportSeries+20)
	}
	b, _ := json.Marshal(first)
	if len(b) > 512<<10 {
		t.Errorf("a report of %d bytes", len(b))
	}
}

// TestReportCurrent: a report names the oldest request being served.
func TestReportCurrent(t *testing.T) {
	h := NewHub()
	r := NewReporter(h)
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(r.Track(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		entered <- struct{}{}
		<-release
	})))
	defer srv.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := http.Get(srv.URL + "/slow?q=secret")
		if err == nil {
			res.Body.Close()
		}
	}()
	<-entered
	rep := r.Report()
	if rep.Current == nil || rep.Current.Method != "GET" || rep.Current.Path != "/slow" {
		t.Errorf("Current while serving = %+v, want GET /slow", rep.Current)
	}
	close(release)
	<-done
	if rep := r.Report(); rep.Current != nil {
		t.Errorf("Current once idle = %+v, want nil", rep.Current)
	}
}
