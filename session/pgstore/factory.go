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
	db, err := OpenDB(dsn) // checks the DSN; connects on first use
	if err != nil {
		return nil, c.Errorf("dsn", "%v", err)
	}
	s, err := prepare(db, Options{Table: table, CleanupInterval: o.CleanupInterval, Logger: c.Logger})
	if err != nil {
		db.Close()
		return nil, c.Errorf("table", "%v", err)
	}
	c.OnClose(s)
	// The database is first reached once the whole config has built: a
	// config with an error elsewhere creates no table.
	c.OnStart(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.start(ctx); err != nil {
			return c.Errorf("dsn", "%v", err)
		}
		return nil
	})
	return s, nil
}
