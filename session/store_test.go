package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

// mapStore is the smallest session.Store, for registry tests.
type mapStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *mapStore) Find(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[key]
	return d, ok, nil
}

func (s *mapStore) Commit(_ context.Context, key string, data []byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = append([]byte(nil), data...)
	return nil
}

func (s *mapStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// TestStoreInIsolatedRegistry: the session filter finds its store in the
// registry its section came from, so a test registers one without
// touching registry.Default.
func TestStoreInIsolatedRegistry(t *testing.T) {
	r := registry.New()
	st := &mapStore{m: map[string][]byte{}}
	err := session.AddStore(r, "test", func(c *registry.Config, o session.StoreOptions) (session.Store, error) {
		return st, nil
	}, "a map")
	if err != nil {
		t.Fatal(err)
	}
	if err := session.AddStore(r, "test", func(*registry.Config, session.StoreOptions) (session.Store, error) { return nil, nil }, ""); err == nil {
		t.Error("a second store named test was accepted")
	}
	filter, ok := registry.Default.Lookup(registry.Filter, "session")
	if !ok {
		t.Fatal("session filter not registered")
	}
	cfg := func(store string) *registry.Config {
		c := registry.NewConfig(registry.Filter, "filter:session", "t.ini:1", "t.ini", nil,
			[]registry.Entry{{Key: "store", Value: store, Origin: "t.ini:2"}}, nil, nil)
		c.Registry = r
		return c
	}

	mw, err := filter.Filter(cfg("test"))
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.From(r.Context()).Put("n", 1); err != nil {
			t.Error(err)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if len(st.m) != 1 {
		t.Errorf("the registered store holds %d sessions, want 1", len(st.m))
	}

	_, err = filter.Filter(cfg("memory"))
	if err == nil || !strings.Contains(err.Error(), `unknown store "memory" (have: test)`) {
		t.Errorf("a store of registry.Default was found in the isolated one: %v", err)
	}
}
