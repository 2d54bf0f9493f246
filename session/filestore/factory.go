package filestore

import (
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	session.RegisterStore("file", newStore,
		"one file per session in a directory; locks across processes")
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Locker  = (*Store)(nil)
	_ session.Swapper = (*Store)(nil)
)

func newStore(c *registry.Config, o session.StoreOptions) (session.Store, error) {
	dir := c.Path("path", "")
	if dir == "" {
		c.Errorf("path", "is required for store = file (a directory)")
		return nil, c.Err()
	}
	s, err := New(dir, Options{CleanupInterval: o.CleanupInterval, Logger: c.Logger})
	if err != nil {
		return nil, c.Errorf("path", "%v", err)
	}
	c.OnClose(s)
	return s, nil
}
