package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gopaste/gopaste/registry"
)

// Store keeps encoded sessions by key. The key a store sees is a hash of
// the session token (see [Manager]), never the token the client holds.
// Implementations must be safe for concurrent use. The filter neither
// modifies nor reuses the data it passes to a store or gets from one.
type Store interface {
	// Find returns the data committed under key. A missing, expired or
	// unreadable (corrupt) entry is not an error: found is false.
	Find(ctx context.Context, key string) (data []byte, found bool, err error)
	// Commit stores data under key until expiry, replacing what was there.
	Commit(ctx context.Context, key string, data []byte, expiry time.Time) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// ErrBusy is wrapped by a store error when the store refused the call
// because too many were already waiting for it (the SQLite store's
// bounded pool). The filter answers such a request 503 with Retry-After.
var ErrBusy = errors.New("session: store busy")

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
// A store whose content must outlive a reload keeps it with
// registry.Shared (the memory store does).
type StoreFactory func(c *registry.Config, o StoreOptions) (Store, error)

// AddStore registers a store in r under name, for the session filter's
// "store" key; it refuses a name already taken.
func AddStore(r *registry.Registry, name string, f StoreFactory, desc string) error {
	if f == nil {
		return fmt.Errorf("session: store %q has no factory", name)
	}
	return r.Add(registry.Part{Kind: registry.StoreKind, Name: name, Description: desc, Store: f})
}

// RegisterStore adds a store to registry.Default. Store packages call it
// from init; it panics on a duplicate name.
func RegisterStore(name string, f StoreFactory, desc string) {
	if err := AddStore(registry.Default, name, f, desc); err != nil {
		panic(err)
	}
}

// lookupStore finds the store factory registered in r as name.
func lookupStore(r *registry.Registry, name string) (StoreFactory, bool) {
	p, ok := r.Lookup(registry.StoreKind, name)
	if !ok {
		return nil, false
	}
	f, ok := p.Store.(StoreFactory)
	return f, ok
}

// storeNames lists the stores registered in r, sorted.
func storeNames(r *registry.Registry) []string {
	var ns []string
	for _, p := range r.Parts(registry.StoreKind) {
		ns = append(ns, p.Name)
	}
	return ns
}
