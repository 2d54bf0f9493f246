package session

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestSweep: the sweep runs every interval and logs its errors; stop
// cancels a sweep in progress, waits for it, and may be called again.
func TestSweep(t *testing.T) {
	var logs syncBuf
	var runs atomic.Int32
	started := make(chan struct{}, 1)
	var sawCancel atomic.Bool
	stop := Sweep(5*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)), func(ctx context.Context, now time.Time) error {
		if runs.Add(1) < 3 {
			return errors.New("disk on fire")
		}
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done() // a sweep that only ends when told to
		sawCancel.Store(errors.Is(ctx.Err(), context.Canceled))
		return ctx.Err()
	})
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the third sweep never started")
	}
	stop()
	if !sawCancel.Load() {
		t.Error("stop returned before the running sweep saw its context canceled")
	}
	stop() // again: no panic, no wait
	if n := bytes.Count([]byte(logs.String()), []byte(`msg="session cleanup" err="disk on fire"`)); n != 2 {
		t.Errorf("%d errors logged, want 2:\n%s", n, logs.String())
	}
	if bytes.Contains([]byte(logs.String()), []byte("canceled")) {
		t.Errorf("the sweep stopped by stop was logged as an error:\n%s", logs.String())
	}

	never := Sweep(-1, nil, func(context.Context, time.Time) error {
		t.Error("a negative interval ran a sweep")
		return nil
	})
	time.Sleep(20 * time.Millisecond)
	never()
}

func TestWaitLock(t *testing.T) {
	tries := 0
	err := WaitLock(t.Context(), func() (bool, error) { tries++; return tries == 4, nil })
	if err != nil || tries != 4 {
		t.Errorf("taken at the 4th try: err %v after %d tries", err, tries)
	}
	boom := errors.New("store down")
	if err := WaitLock(t.Context(), func() (bool, error) { return false, boom }); err != boom {
		t.Errorf("a failing try: %v, want %v", err, boom)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = WaitLock(ctx, func() (bool, error) { return false, nil })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("a lock never free: %v after %v", err, time.Since(start))
	}
	if a, b := LockOwner(), LockOwner(); len(a) != 24 || a == b {
		t.Errorf("owners %q %q: want two different 24-digit tokens", a, b)
	}
}
