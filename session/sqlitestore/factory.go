package sqlitestore

import (
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	session.RegisterStore("sqlite", newStore,
		"an SQLite database file (embedded, no cgo)")
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Locker  = (*Store)(nil)
	_ session.Swapper = (*Store)(nil)
	_ session.Store   = (*Lazy)(nil)
	_ session.Locker  = (*Lazy)(nil)
	_ session.Swapper = (*Lazy)(nil)
)

func newStore(c *registry.Config, o session.StoreOptions) (session.Store, error) {
	path := c.Path("path", "")
	table := c.String("table", "sessions")
	if path == "" {
		c.Errorf("path", "is required for store = sqlite (a database file)")
		return nil, c.Err()
	}
	s, err := NewLazy(path, Options{Table: table, CleanupInterval: o.CleanupInterval, Logger: c.Logger})
	if err != nil {
		return nil, c.Errorf("path", "%v", err)
	}
	c.OnClose(s)
	return s, nil
}
