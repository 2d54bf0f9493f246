package admin

import (
	"errors"
	"testing"
	"time"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// TestFromSharesOneHub: the server section and an app of one build, and
// the next build, get the same hub through the serve's pool; a source
// registered by a build leaves with it.
func TestFromSharesOneHub(t *testing.T) {
	pool := new(registry.Pool)
	srv1, discardSrv1 := registrytest.Generation(t, pool, registry.ServerKind, "server:main", "site.ini", nil)
	app1, discardApp1 := registrytest.Generation(t, pool, registry.App, "app:api", "site.ini", nil)
	h := From(srv1)
	src1 := &fakeSource{workers: []Worker{{PID: 1, State: "ready"}}}
	if got := Register(app1, "", src1); got != h {
		t.Fatal("the app's hub is not the server's")
	}
	// A reload: the new build registers its source, then the old build
	// is closed.
	srv2, discardSrv2 := registrytest.Generation(t, pool, registry.ServerKind, "server:main", "site.ini", nil)
	app2, discardApp2 := registrytest.Generation(t, pool, registry.App, "app:api", "site.ini", nil)
	if From(srv2) != h {
		t.Fatal("the next build's hub differs")
	}
	Register(app2, "", &fakeSource{workers: []Worker{{PID: 2, State: "ready"}}})
	if n := len(h.Snapshot().Workers); n != 2 {
		t.Errorf("%d workers during the reload, want both builds' 2", n)
	}
	discardApp1()
	discardSrv1()
	ws := h.Snapshot().Workers
	if len(ws) != 1 || ws[0].PID != 2 || ws[0].Pool != "api" {
		t.Errorf("workers after the old build closed: %+v", ws)
	}
	discardApp2()
	discardSrv2()
	if pool.Len() != 0 {
		t.Errorf("the pool keeps %d values after every build closed", pool.Len())
	}
}

func TestFromWithoutPool(t *testing.T) {
	c := registrytest.Config(registry.App, "app:x", "x.ini", nil)
	if From(c) == nil || From(c) == From(c) {
		t.Error("without a pool each call should get its own hub")
	}
}

func TestReady(t *testing.T) {
	h := NewHub()
	if err := h.Ready(); !errors.Is(err, ErrNotServing) {
		t.Errorf("before serving: %v", err)
	}
	src := &fakeSource{}
	h.AddSource("api", src)
	h.SetServing(true)
	if err := h.Ready(); err != nil {
		t.Errorf("serving: %v", err)
	}
	src.setReady(errStarting)
	if err := h.Ready(); !errors.Is(err, errStarting) || err.Error() != "api: 1 worker starting" {
		t.Errorf("a source starting: %v", err)
	}
	src.setReady(nil)
	h.SetServing(false)
	if err := h.Ready(); !errors.Is(err, ErrNotServing) {
		t.Errorf("draining: %v", err)
	}
	if s := h.Snapshot(); s.State != "draining" || s.Ready || s.NotReady == "" {
		t.Errorf("snapshot state %q ready %v %q", s.State, s.Ready, s.NotReady)
	}
}

func TestSnapshotWorkers(t *testing.T) {
	h, _ := fixture(t)
	s := h.Snapshot()
	if len(s.Workers) != 6 {
		t.Fatalf("%d workers, want 6", len(s.Workers))
	}
	if w := s.Workers[0]; w.Pool != "api" || w.PID != 41873 {
		t.Errorf("first worker %+v, want api's lowest pid", w)
	}
	if w := s.Workers[5]; w.Pool != "prefork" || w.PID != 41851 {
		t.Errorf("last worker %+v", w)
	}
	if len(s.Mounts) != 3 || s.Mounts[0].Name != "/" || len(s.Backends) != 2 {
		t.Errorf("mounts %d (first %q), backends %d", len(s.Mounts), s.Mounts[0].Name, len(s.Backends))
	}
}

// TestReadyDuringReload: while a reload's new build starts its workers,
// the serving build's source says whether the server is ready; once the
// old build is closed the new one's does.
func TestReadyDuringReload(t *testing.T) {
	h := NewHub()
	h.SetServing(true)
	removeOld := h.AddSource("api", &fakeSource{})
	next := &fakeSource{err: errStarting}
	h.AddSource("api", next)
	if err := h.Ready(); err != nil {
		t.Errorf("during the reload: %v", err)
	}
	removeOld()
	if err := h.Ready(); !errors.Is(err, errStarting) {
		t.Errorf("after the old build closed: %v, want the new build's", err)
	}
	next.setReady(nil)
	if err := h.Ready(); err != nil {
		t.Errorf("new build ready: %v", err)
	}
}

// TestSnapshotRateSinceStart: a server up for 5 seconds that served 50
// requests shows 10 requests/s, not 50 spread over the last minute.
func TestSnapshotRateSinceStart(t *testing.T) {
	h := NewHub()
	h.started = t0.Add(12 * time.Second)
	now := t0.Add(17 * time.Second)
	h.Now = func() time.Time { return now }
	for range 50 {
		h.Stats.Mount("/").Observe(now, 200, time.Millisecond)
	}
	st := h.Snapshot().Mounts[0]
	if sum := Summarize(st, 0); sum.Rate != 10 {
		t.Errorf("rate %v, want 10/s", sum.Rate)
	}
	if p := st.Points[len(st.Points)-2]; p.Seconds != 0 {
		t.Errorf("a window before the start counts %v seconds", p.Seconds)
	}
}
