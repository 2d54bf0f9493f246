package memstore

import (
	"fmt"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	session.RegisterStore("memory", newStore,
		"in this process; kept across reloads, lost on restart")
}

// newStore returns the section's store, shared through the reload pool:
// a reload (which builds the new tree before it closes the old one) finds
// the same store and keeps every session. The store closes with the last
// tree that uses it. A changed cleanup_interval starts a new store.
func newStore(c *registry.Config, o session.StoreOptions) (session.Store, error) {
	return registry.Shared(c, fmt.Sprintf("memstore cleanup=%v", o.CleanupInterval), func() (*Store, error) {
		return New(Options{CleanupInterval: o.CleanupInterval}), nil
	})
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Locker  = (*Store)(nil)
	_ session.Swapper = (*Store)(nil)
)
