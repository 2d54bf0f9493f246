package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/redisconn"
	"github.com/gopaste/gopaste/session/redisstore"
	"github.com/gopaste/gopaste/session/storetest"
)

func BenchmarkSession(b *testing.B) {
	c, err := redisconn.Open("redis://" + addr() + "?dial_timeout=1s")
	if err != nil {
		b.Fatal(err)
	}
	storetest.Require(b, "redis", c.Ping(b.Context()))
	prefix := storetest.Namespace(b) + ":"
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	defer func() {
		c.DeletePrefix(context.Background(), prefix)
		s.Close()
	}()
	storetest.Bench(b, s, func(ctx context.Context, key string, data []byte) error {
		if _, _, err := c.Get(ctx, prefix+key); err != nil {
			return err
		}
		return c.Set(ctx, prefix+key, data, time.Hour)
	})
}
