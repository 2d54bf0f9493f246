package admin

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // a window start

func TestSeriesWindows(t *testing.T) {
	s := newSeries("/x")
	s.Observe(t0.Add(1*time.Second), 200, 2*time.Millisecond)
	s.Observe(t0.Add(9*time.Second), 503, 200*time.Millisecond)
	s.Observe(t0.Add(10*time.Second), 200, time.Millisecond) // the next window
	st := s.Stats(t0.Add(15 * time.Second))
	if len(st.Points) != Windows {
		t.Fatalf("%d points, want %d", len(st.Points), Windows)
	}
	last, prev := st.Points[Windows-1], st.Points[Windows-2]
	if !last.Start.Equal(t0.Add(10*time.Second)) || last.Seconds != 5 || last.Requests != 1 || last.Errors != 0 {
		t.Errorf("current window = %+v", last)
	}
	if !prev.Start.Equal(t0) || prev.Seconds != 10 || prev.Requests != 2 || prev.Errors != 1 {
		t.Errorf("previous window = %+v", prev)
	}
	if st.Requests != 3 || st.Errors != 1 {
		t.Errorf("totals %d requests %d errors, want 3 and 1", st.Requests, st.Errors)
	}
	if got, want := st.LatencySum, 0.203; math.Abs(got-want) > 1e-9 {
		t.Errorf("latency sum %v, want %v", got, want)
	}
	// 2ms is in the ≤2.5ms bucket, 200ms in ≤250ms.
	if prev.Latency[2] != 1 || prev.Latency[8] != 1 {
		t.Errorf("latency counts %v", prev.Latency)
	}
}

// TestSeriesRingReuse: a window 15 minutes later reuses the slot, after
// zeroing it; the points then show only the new window's count.
func TestSeriesRingReuse(t *testing.T) {
	s := newSeries("/")
	s.Observe(t0, 200, time.Millisecond)
	later := t0.Add(Windows * Interval)
	s.Observe(later, 500, time.Millisecond)
	s.Observe(t0.Add(time.Second), 200, time.Millisecond) // too old now: totals only
	st := s.Stats(later)
	var n, e uint64
	for _, p := range st.Points {
		n += p.Requests
		e += p.Errors
	}
	if n != 1 || e != 1 {
		t.Errorf("points hold %d requests, %d errors; want the new window's 1 and 1", n, e)
	}
	if st.Requests != 3 {
		t.Errorf("total %d, want 3", st.Requests)
	}
}

// TestSeriesConcurrent: requests from many goroutines, across a window
// boundary, are all counted (run with -race).
func TestSeriesConcurrent(t *testing.T) {
	s := newSeries("/")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				end := t0.Add(time.Duration(g*1000+i) * time.Millisecond * 3) // 0 to 24s: three windows
				s.Observe(end, 200+300*(i%2), time.Millisecond)
			}
		}()
	}
	wg.Wait()
	st := s.Stats(t0.Add(25 * time.Second))
	var n uint64
	for _, p := range st.Points {
		n += p.Requests
	}
	if st.Requests != 8000 || st.Errors != 4000 || n != 8000 {
		t.Errorf("total %d errors %d in points %d; want 8000, 4000, 8000", st.Requests, st.Errors, n)
	}
}

func TestQuantile(t *testing.T) {
	lat := make([]uint64, nBuckets)
	if q := Quantile(0.5, lat); q != 0 {
		t.Errorf("empty: %v", q)
	}
	lat[3] = 100 // (2.5ms, 5ms]
	if q := Quantile(0.5, lat); math.Abs(q-0.00375) > 1e-9 {
		t.Errorf("p50 = %v, want 3.75ms", q)
	}
	lat[nBuckets-1] = 100 // past 10s
	if q := Quantile(0.99, lat); q != 10 {
		t.Errorf("p99 = %v, want the last bound", q)
	}
}

func TestMaxSeries(t *testing.T) {
	var st Stats
	for i := range MaxSeries + 10 {
		st.Backend(fmt.Sprintf("b%03d", i)).Observe(t0, 200, 0)
	}
	list := st.Backends()
	if len(list) != MaxSeries+1 {
		t.Fatalf("%d series, want %d and %q", len(list), MaxSeries, OtherSeries)
	}
	other := st.Backend("never seen")
	if other.Name() != OtherSeries || other.Stats(t0).Requests != 10 {
		t.Errorf("overflow series %q has %d requests, want %q with 10", other.Name(), other.Stats(t0).Requests, OtherSeries)
	}
}
