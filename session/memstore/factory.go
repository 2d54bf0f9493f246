package memstore

import (
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	session.RegisterStore("memory", func(c *registry.Config, o session.StoreOptions) (session.Store, error) {
		s := New(Options{CleanupInterval: o.CleanupInterval})
		c.OnClose(s)
		return s, nil
	})
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Locker  = (*Store)(nil)
	_ session.Swapper = (*Store)(nil)
)
