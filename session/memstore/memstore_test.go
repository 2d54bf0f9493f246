package memstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/memstore"
	"github.com/gopaste/gopaste/session/storetest"
)

func TestConformance(t *testing.T) {
	var mu sync.Mutex
	byTest := map[string]*memstore.Store{}
	storetest.Run(t, func(t *testing.T) session.Store {
		mu.Lock()
		defer mu.Unlock()
		if s, ok := byTest[t.Name()]; ok {
			return s // one process: every handle is the same store
		}
		s := memstore.New(memstore.Options{CleanupInterval: 100 * time.Millisecond})
		t.Cleanup(func() { s.Close() })
		byTest[t.Name()] = s
		return s
	})
}

func TestCleanupDropsExpired(t *testing.T) {
	s := memstore.New(memstore.Options{CleanupInterval: -1})
	defer s.Close()
	s.Commit(t.Context(), "a", []byte("x"), time.Now().Add(-time.Second))
	s.Commit(t.Context(), "b", []byte("y"), time.Now().Add(time.Hour))
	s.DeleteExpiredNow(time.Now())
	if n := s.Len(); n != 1 {
		t.Errorf("entries after cleanup = %d, want 1", n)
	}
}

func TestTwoManagers(t *testing.T) {
	s := memstore.New(memstore.Options{CleanupInterval: -1})
	defer s.Close()
	storetest.RunManagers(t, func(*testing.T) session.Store { return s })
}
