package session

// This file holds what several stores do alike: the loop that deletes
// expired entries, the wait for a lease lock, and its owner token.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"
)

// DefaultCleanupInterval is how often a store deletes expired entries
// when [StoreOptions.CleanupInterval] is zero.
const DefaultCleanupInterval = 5 * time.Minute

// Sweep calls sweep every interval (DefaultCleanupInterval when zero,
// never when negative) on a goroutine of its own, until stop is called.
// Each call's context ends after one interval or at stop, whichever
// comes first; an error is logged at warn level. stop waits for a call in
// progress and may be called more than once.
func Sweep(interval time.Duration, log *slog.Logger, sweep func(ctx context.Context, now time.Time) error) (stop func()) {
	if interval == 0 {
		interval = DefaultCleanupInterval
	}
	if interval < 0 {
		return func() {}
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				sctx, scancel := context.WithTimeout(ctx, interval)
				if err := sweep(sctx, now); err != nil && ctx.Err() == nil {
					log.Warn("session cleanup", "err", err)
				}
				scancel()
			}
		}
	}()
	return sync.OnceFunc(func() {
		cancel()
		<-done
	})
}

// WaitLock calls try until it reports the lock taken, fails, or ctx
// ends (ctx's error), waiting a millisecond after the first refusal and
// twice as long after each next one, up to 20 ms: the lease stores' way
// to wait for a lock another process holds.
func WaitLock(ctx context.Context, try func() (taken bool, err error)) error {
	wait := time.Millisecond
	for {
		taken, err := try()
		if err != nil || taken {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 20*time.Millisecond)
	}
}

// LockOwner returns a random token naming one holder of a lease lock.
func LockOwner() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
