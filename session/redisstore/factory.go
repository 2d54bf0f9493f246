package redisstore

import (
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	session.RegisterStore("redis", newStore,
		"Redis, for several machines")
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Locker  = (*Store)(nil)
	_ session.Swapper = (*Store)(nil)
)

func newStore(c *registry.Config, o session.StoreOptions) (session.Store, error) {
	url := c.Required("url")
	prefix := c.String("prefix", "gopaste:session:")
	if err := c.Err(); err != nil {
		return nil, err
	}
	s, err := Open(url, Options{Prefix: prefix})
	if err != nil {
		return nil, c.Errorf("url", "%v", err)
	}
	c.OnClose(s)
	return s, nil
}
