package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
)

// TestPoolBoundedIssue12: at 400 concurrent clients whose sessions are
// saved while another process holds SQLite's write lock, the store keeps
// to its pool (MaxConns working, MaxWaiting waiting) and the filter
// answers the rest 503 with Retry-After at once instead of piling them
// up; once the lock is released the waiting requests finish and every
// later request succeeds.
func TestPoolBoundedIssue12(t *testing.T) {
	const clients = 400
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := New(t.Context(), path, Options{CleanupInterval: -1, BusyTimeout: 20 * time.Second, WaitTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := session.New(session.Options{Store: s, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var inApp atomic.Int64
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inApp.Add(1)
		if err := session.From(r.Context()).Put("n", 1); err != nil {
			t.Error(err)
		}
		io.WriteString(w, "ok")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	// Another process's writer: every Commit waits on the busy timeout.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
				t.Error(err)
			}
		}
	}
	defer release()

	before := runtime.NumGoroutine()
	var ok, busy, other5xx atomic.Int64
	var wg sync.WaitGroup
	refused := make(chan struct{}, clients)
	for range clients {
		wg.Go(func() {
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200:
				ok.Add(1)
			case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
				busy.Add(1)
				refused <- struct{}{}
			default:
				other5xx.Add(1)
				t.Errorf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		})
	}
	// Everything beyond the pool and its queue is refused while the lock
	// is held: none of those waits for a connection.
	least := clients - DefaultMaxConns - DefaultMaxWaiting
	deadline := time.After(20 * time.Second)
	for range least {
		select {
		case <-refused:
		case <-deadline:
			t.Fatalf("only %d of at least %d requests refused while the database was locked (%d ok)", busy.Load(), least, ok.Load())
		}
	}
	if n := ok.Load(); n != 0 {
		t.Errorf("%d requests saved while another process held the write lock", n)
	}
	if w := s.gate.waiting.Load(); w > DefaultMaxWaiting {
		t.Errorf("%d calls waiting, want at most %d", w, DefaultMaxWaiting)
	}
	release()
	wg.Wait()
	t.Logf("%d clients: %d ok, %d 503 with Retry-After, %d other", clients, ok.Load(), busy.Load(), other5xx.Load())
	if ok.Load() < DefaultMaxConns {
		t.Errorf("%d requests finished after the lock was released, want at least %d", ok.Load(), DefaultMaxConns)
	}
	if got := ok.Load() + busy.Load(); got != clients {
		t.Errorf("%d answered 200 or 503, want %d", got, clients)
	}

	// Recovered: sequential requests all succeed.
	for i := range 50 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d after the burst: %d", i, resp.StatusCode)
		}
	}
	if n := s.DB().Stats().OpenConnections; n > DefaultMaxConns {
		t.Errorf("%d open connections, want at most %d", n, DefaultMaxConns)
	}
	client.CloseIdleConnections()
	waitGoroutines(t, before)
}

func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	var n int
	for range 200 {
		if n = runtime.NumGoroutine(); n <= want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines after the burst, %d before", n, want)
}

// TestGateRefusesBeyondQueue: with every connection taken and the queue
// full, a call fails at once with session.ErrBusy; a queued call fails
// after WaitTimeout; a freed slot serves the next caller.
func TestGateRefusesBeyondQueue(t *testing.T) {
	s, err := New(t.Context(), filepath.Join(t.TempDir(), "s.db"), Options{CleanupInterval: -1, MaxConns: 1, MaxWaiting: 1, WaitTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.gate.enter(ctx); err != nil { // hold the only connection
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Commit(ctx, "k", []byte("v"), time.Now().Add(time.Hour)); !errors.Is(err, session.ErrBusy) {
		t.Errorf("queued Commit = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("queued Commit failed after %v, before WaitTimeout", d)
	}
	// Fill the queue, then one more is refused without waiting.
	queued := make(chan error)
	go func() { _, _, err := s.Find(ctx, "k"); queued <- err }()
	for s.gate.waiting.Load() == 0 {
		runtime.Gosched()
	}
	start = time.Now()
	if _, _, err := s.Find(ctx, "k"); !errors.Is(err, session.ErrBusy) {
		t.Errorf("Find beyond the queue = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > 40*time.Millisecond {
		t.Errorf("Find beyond the queue waited %v", d)
	}
	if err := <-queued; !errors.Is(err, session.ErrBusy) {
		t.Errorf("queued Find = %v, want ErrBusy", err)
	}
	s.gate.leave()
	if err := s.Commit(ctx, "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Errorf("Commit after the slot was freed: %v", err)
	}
}
