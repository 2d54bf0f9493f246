// Package memstore keeps sessions in the memory of one process.
//
// Sessions are lost when the process exits or restarts, and are not
// shared with other processes (prefork workers, other machines): use the
// file, sqlite, redis or postgres store for that. Locks (lock =
// exclusive) are in-process; their ttl is not needed, since a holder
// cannot die without the whole store going with it.
package memstore

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/session"
)

// Options configure a [Store].
type Options struct {
	// CleanupInterval is how often expired sessions are dropped; zero
	// means 5 minutes, negative means never.
	CleanupInterval time.Duration
}

type item struct {
	data   []byte
	expiry time.Time
}

type keyLock struct {
	ch   chan struct{} // holds one token while locked
	refs int           // holders and waiters
}

// Store is an in-memory session store. It is safe for concurrent use.
// Close stops its cleanup loop.
type Store struct {
	mu    sync.Mutex
	items map[string]item
	locks map[string]*keyLock

	stopSweep func()      // the cleanup loop's
	closed    atomic.Bool // Close was called
}

// New returns a Store whose cleanup loop runs until Close.
func New(o Options) *Store {
	s := &Store{
		items: make(map[string]item),
		locks: make(map[string]*keyLock),
	}
	s.stopSweep = session.Sweep(o.CleanupInterval, nil, func(_ context.Context, now time.Time) error {
		s.deleteExpired(now)
		return nil
	})
	return s
}

func (s *Store) deleteExpired(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, it := range s.items {
		if !now.Before(it.expiry) {
			delete(s.items, k)
		}
	}
}

// Close stops the cleanup loop and waits for it to exit.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.stopSweep()
	return nil
}

// Find implements session.Store. The data returned is the store's own
// (Commit and Swap replace it, never change it in place): callers must
// not modify it, as session.Store says.
func (s *Store) Find(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	it, ok := s.items[key]
	s.mu.Unlock()
	if !ok || !time.Now().Before(it.expiry) {
		return nil, false, nil
	}
	return it.data, true, nil
}

// Commit implements session.Store.
func (s *Store) Commit(_ context.Context, key string, data []byte, expiry time.Time) error {
	it := item{data: bytes.Clone(data), expiry: expiry} // outside the lock
	s.mu.Lock()
	s.items[key] = it
	s.mu.Unlock()
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, key)
	return nil
}

// Swap implements session.Swapper.
func (s *Store) Swap(_ context.Context, key string, old, data []byte, expiry time.Time) (bool, error) {
	next := item{data: bytes.Clone(data), expiry: expiry} // outside the lock
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[key]
	live := ok && now.Before(it.expiry)
	if old == nil && live || old != nil && (!live || !bytes.Equal(old, it.data)) {
		return false, nil
	}
	s.items[key] = next
	return true, nil
}

// Lock implements session.Locker; ttl is not used (see the package doc).
func (s *Store) Lock(ctx context.Context, key string, _ time.Duration) (func(context.Context) error, error) {
	s.mu.Lock()
	kl := s.locks[key]
	if kl == nil {
		kl = &keyLock{ch: make(chan struct{}, 1)}
		s.locks[key] = kl
	}
	kl.refs++
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		kl.refs--
		if kl.refs == 0 {
			delete(s.locks, key)
		}
		s.mu.Unlock()
	}
	select {
	case kl.ch <- struct{}{}:
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
	var once sync.Once
	return func(context.Context) error {
		once.Do(func() {
			<-kl.ch
			release()
		})
		return nil
	}, nil
}

// DeleteExpiredNow runs one cleanup pass as of now (the loop calls it on
// every tick).
func (s *Store) DeleteExpiredNow(now time.Time) { s.deleteExpired(now) }

// Len returns the number of entries held, expired ones not yet cleaned
// up included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}
