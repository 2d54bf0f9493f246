package sqlitestore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Lazy is a Store that opens its database at first use. The session
// filter uses it so that a server whose sessions are not used yet does not
// pay SQLite's memory (about 3 MiB of the demo's idle RSS); a config error
// such as an unwritable directory is still found when it is built, by
// NewLazy. It is safe for concurrent use.
type Lazy struct {
	path string
	o    Options

	mu     sync.Mutex
	s      *Store
	err    error
	closed bool
}

// NewLazy checks that the database's directory exists (creating it) and
// is writable, and returns a store that opens path at first use.
func NewLazy(path string, o Options) (*Lazy, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".gopaste-probe-*")
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: directory %s is not writable: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return &Lazy{path: path, o: o}, nil
}

// open returns the store, opening it the first time. A failed open is
// retried at the next use (the disk may come back).
func (l *Lazy) open(ctx context.Context) (*Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("sqlitestore: store is closed")
	}
	if l.s != nil {
		return l.s, nil
	}
	s, err := New(ctx, l.path, l.o)
	if err != nil {
		return nil, err
	}
	l.s = s
	return s, nil
}

// Opened reports whether the database has been opened.
func (l *Lazy) Opened() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s != nil
}

func (l *Lazy) Find(ctx context.Context, key string) ([]byte, bool, error) {
	s, err := l.open(ctx)
	if err != nil {
		return nil, false, err
	}
	return s.Find(ctx, key)
}

func (l *Lazy) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	s, err := l.open(ctx)
	if err != nil {
		return err
	}
	return s.Commit(ctx, key, data, expiry)
}

func (l *Lazy) Delete(ctx context.Context, key string) error {
	s, err := l.open(ctx)
	if err != nil {
		return err
	}
	return s.Delete(ctx, key)
}

func (l *Lazy) Swap(ctx context.Context, key string, old, data []byte, expiry time.Time) (bool, error) {
	s, err := l.open(ctx)
	if err != nil {
		return false, err
	}
	return s.Swap(ctx, key, old, data, expiry)
}

func (l *Lazy) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	s, err := l.open(ctx)
	if err != nil {
		return nil, err
	}
	return s.Lock(ctx, key, ttl)
}

// Close closes the database if it was opened.
func (l *Lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.s == nil {
		return nil
	}
	return l.s.Close()
}
