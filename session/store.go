package session

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/gopaste/gopaste/registry"
)

// Store keeps encoded sessions by key. The key a store sees is a hash of
// the session token (see [Manager]), never the token the client holds.
// Implementations must be safe for concurrent use.
type Store interface {
	// Find returns the data committed under key. A missing, expired or
	// unreadable (corrupt) entry is not an error: found is false.
	// Callers must not modify data: a store may hand over bytes it keeps,
	// unchanged, for later calls.
	Find(ctx context.Context, key string) (data []byte, found bool, err error)
	// Commit stores data under key until expiry, replacing what was there.
	// It must not keep data after it returns (the filter reuses it).
	Commit(ctx context.Context, key string, data []byte, expiry time.Time) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Locker is implemented by stores that can serialise the requests of one
// session (lock = exclusive), across every process sharing the store.
//
// Lock waits until it holds the lock on key or ctx is done. The lock
// lapses by itself after ttl (or when the holding process dies), so a
// crashed holder never blocks a session for longer than ttl. unlock
// releases it; it is safe to call once, with a context of its own.
type Locker interface {
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// Swapper is implemented by stores that can replace an entry only when it
// still holds what was read (lock = optimistic).
//
// Swap stores data under key until expiry if the entry currently holds
// exactly old (old == nil: if there is no live entry). swapped is false,
// with a nil error, when another writer got there first.
type Swapper interface {
	//
	// Like Commit, Swap must not keep old or data after it returns.
	Swap(ctx context.Context, key string, old, data []byte, expiry time.Time) (swapped bool, err error)
}

// StoreOptions are the settings the session filter passes to every store
// factory, besides the keys the factory reads itself.
type StoreOptions struct {
	// CleanupInterval is how often a store with a cleanup loop removes
	// expired entries; zero means the store's default (5 minutes).
	CleanupInterval time.Duration
}

// StoreFactory builds a store from the session filter's section: it reads
// its own keys (path, url, dsn) and registers its closer with c.OnClose.
type StoreFactory func(c *registry.Config, o StoreOptions) (Store, error)

var (
	storesMu sync.RWMutex
	stores   = map[string]StoreFactory{}
)

// RegisterStore makes a store available to the session filter's "store"
// key. Store packages call it from init; it panics on a duplicate name.
func RegisterStore(name string, f StoreFactory) {
	storesMu.Lock()
	defer storesMu.Unlock()
	if _, dup := stores[name]; dup {
		panic(fmt.Sprintf("session: store %q registered twice", name))
	}
	stores[name] = f
}

func lookupStore(name string) (StoreFactory, bool) {
	storesMu.RLock()
	defer storesMu.RUnlock()
	f, ok := stores[name]
	return f, ok
}

// StoreNames lists the registered store names, sorted.
func StoreNames() []string {
	storesMu.RLock()
	defer storesMu.RUnlock()
	var ns []string
	for n := range stores {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}
