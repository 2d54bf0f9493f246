package memstore

import (
	"sync"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	session.RegisterStore("memory", func(c *registry.Config, o session.StoreOptions) (session.Store, error) {
		s := shared.acquire(c.File+"#"+c.Section, Options{CleanupInterval: o.CleanupInterval})
		c.OnClose(s)
		return s.Store, nil
	})
}

// shared keeps one memory store per config section for the life of the
// process, so that a live reload (which builds the new tree before it
// closes the old one) keeps every session instead of starting empty.
var shared = &registryOfStores{m: map[string]*sharedStore{}}

type registryOfStores struct {
	mu sync.Mutex
	m  map[string]*sharedStore
}

// sharedStore counts the built trees using one store; the last Close
// closes it.
type sharedStore struct {
	*Store
	key  string
	refs int
	reg  *registryOfStores
}

func (r *registryOfStores) acquire(key string, o Options) *sharedHandle {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[key]
	if !ok {
		s = &sharedStore{Store: New(o), key: key, reg: r}
		r.m[key] = s
	}
	s.refs++
	return &sharedHandle{sharedStore: s}
}

// sharedHandle is one tree's reference; closing it twice is harmless.
type sharedHandle struct {
	*sharedStore
	once sync.Once
}

func (h *sharedHandle) Close() error {
	var err error
	h.once.Do(func() {
		r := h.reg
		r.mu.Lock()
		h.refs--
		last := h.refs == 0
		if last {
			delete(r.m, h.key)
		}
		r.mu.Unlock()
		if last {
			err = h.Store.Close()
		}
	})
	return err
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Locker  = (*Store)(nil)
	_ session.Swapper = (*Store)(nil)
)
