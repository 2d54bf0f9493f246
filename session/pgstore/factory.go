package pgstore

import (
	"context"
	"time"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	session.RegisterStore("postgres", newStore,
		"PostgreSQL, for several machines")
}

var (
	_ session.Store   = (*Store)(nil)
	_ session.Locker  = (*Store)(nil)
	_ session.Swapper = (*Store)(nil)
)

func newStore(c *registry.Config, o session.StoreOptions) (session.Store, error) {
	dsn := c.Required("dsn")
	table := c.String("table", "sessions")
	if err := c.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn, Options{Table: table, CleanupInterval: o.CleanupInterval, Logger: c.Logger})
	if err != nil {
		return nil, c.Errorf("dsn", "%v", err)
	}
	c.OnClose(s)
	return s, nil
}
