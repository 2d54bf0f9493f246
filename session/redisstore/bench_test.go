package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gopaste/gopaste/session/redisstore"
	"github.com/gopaste/gopaste/session/storetest"
)

func BenchmarkSession(b *testing.B) {
	c := redis.NewClient(&redis.Options{Addr: addr(), DialTimeout: time.Second})
	storetest.Require(b, "redis", c.Ping(b.Context()).Err())
	prefix := storetest.Namespace(b) + ":"
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	defer func() {
		ctx := context.Background()
		if keys, _ := c.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		s.Close()
	}()
	storetest.Bench(b, s, func(ctx context.Context, key string, data []byte) error {
		if err := c.Get(ctx, prefix+key).Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		return c.Set(ctx, prefix+key, data, time.Hour).Err()
	})
}
