package example

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	session.RegisterStore("shelf", shelfFactory, "sessions in a map of at most shelf_limit entries, kept across reloads (an example)")
}

// shelfFactory builds the store a session filter with "store = shelf"
// uses. It reads its own key (shelf_limit) from the filter's section, and
// keeps the store with registry.Shared, so a reload finds the same store
// and keeps every session. The settings are part of the name: a reload
// that changes shelf_limit gets a new store.
func shelfFactory(c *registry.Config, o session.StoreOptions) (session.Store, error) {
	limit := c.Int("shelf_limit", 10000)
	if limit < 1 {
		c.Errorf("shelf_limit", "must be at least 1")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return registry.Shared(c, fmt.Sprintf("shelf limit=%d", limit), func() (*Shelf, error) {
		return &Shelf{limit: limit, m: make(map[string]shelfEntry)}, nil
	})
}

// ErrShelfFull is returned by Commit when the shelf holds its limit of
// live sessions.
var ErrShelfFull = errors.New("shelf: full")

// Shelf keeps sessions in a map. It holds no resource: a store that does
// (a connection, a file, a goroutine) implements io.Closer, and the pool
// closes it after the last generation that used it.
type Shelf struct {
	limit int
	mu    sync.Mutex
	m     map[string]shelfEntry
}

type shelfEntry struct {
	data   []byte
	expiry time.Time
}

// Find returns a copy of what is kept under key, unless it expired.
func (s *Shelf) Find(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok || !time.Now().Before(e.expiry) {
		return nil, false, nil
	}
	return bytes.Clone(e.data), true, nil
}

// Commit keeps a copy of data under key until expiry.
func (s *Shelf) Commit(_ context.Context, key string, data []byte, expiry time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok && len(s.m) >= s.limit {
		now := time.Now()
		for k, e := range s.m {
			if !now.Before(e.expiry) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= s.limit {
			return ErrShelfFull
		}
	}
	s.m[key] = shelfEntry{data: bytes.Clone(data), expiry: expiry}
	return nil
}

// Delete forgets key.
func (s *Shelf) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}
