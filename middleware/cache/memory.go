package cache

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// MemoryStore keeps entries in memory, evicting the least recently used
// when their total size would pass MaxBytes. It is safe for concurrent use.
type MemoryStore struct {
	maxBytes int64
	now      func() time.Time

	mu    sync.Mutex
	used  int64
	lru   *list.List // front: most recently used; values are *memItem
	items map[string]*list.Element
}

type memItem struct {
	key     string
	e       *Entry
	size    int64
	expires time.Time
}

// NewMemoryStore returns a store bounded by maxBytes (> 0). now is the
// clock; nil means time.Now.
func NewMemoryStore(maxBytes int64, now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{maxBytes: maxBytes, now: now, lru: list.New(), items: make(map[string]*list.Element)}
}

// Get returns the entry under key, unless it has expired.
func (s *MemoryStore) Get(_ context.Context, key string) (*Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[key]
	if !ok {
		return nil, false, nil
	}
	it := el.Value.(*memItem)
	if !s.now().Before(it.expires) {
		s.remove(el)
		return nil, false, nil
	}
	s.lru.MoveToFront(el)
	return it.e, true, nil
}

// Set stores e under key for ttl. An entry larger than the whole store is
// not kept.
func (s *MemoryStore) Set(_ context.Context, key string, e *Entry, ttl time.Duration) error {
	size := e.size() + int64(len(key))
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.remove(el)
	}
	if size > s.maxBytes || ttl <= 0 {
		return nil
	}
	for s.used+size > s.maxBytes {
		s.remove(s.lru.Back())
	}
	it := &memItem{key: key, e: e, size: size, expires: s.now().Add(ttl)}
	s.items[key] = s.lru.PushFront(it)
	s.used += size
	return nil
}

// Delete removes key.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		s.remove(el)
	}
	return nil
}

// Len returns the number of entries and the bytes they take.
func (s *MemoryStore) Len() (n int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items), s.used
}

func (s *MemoryStore) remove(el *list.Element) {
	it := el.Value.(*memItem)
	s.lru.Remove(el)
	delete(s.items, it.key)
	s.used -= it.size
}

var _ Store = (*MemoryStore)(nil)
