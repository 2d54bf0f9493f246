package redisstore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/redisconn"
	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/redisstore"
	"github.com/gopaste/gopaste/session/storetest"
)

// addr is the Redis server the tests use (REDIS_ADDR overrides).
func addr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

func requireRedis(t *testing.T) {
	c, err := redisconn.Open("redis://" + addr() + "?dial_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	storetest.Require(t, "redis at "+addr(), c.Ping(ctx))
}

// newStore opens a client on a key prefix unique to t; the first call's
// cleanup deletes the prefix's keys.
func newStore(t *testing.T) session.Store {
	prefix := storetest.Namespace(t) + ":"
	s, err := redisstore.Open("redis://"+addr()+"/0", redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Client().DeletePrefix(context.Background(), prefix); err != nil {
			t.Error(err)
		}
		s.Close()
	})
	return s
}

func TestConformance(t *testing.T) {
	requireRedis(t)
	storetest.Run(t, newStore)
	storetest.RunLockExpiry(t, newStore)
	storetest.RunManagers(t, newStore)
}

func TestTTL(t *testing.T) {
	requireRedis(t)
	s := newStore(t).(*redisstore.Store)
	prefix := storetest.Namespace(t) + ":"
	s.Commit(t.Context(), "k", []byte("x"), time.Now().Add(time.Hour))
	ttl, err := s.Client().PTTL(t.Context(), prefix+"k")
	if err != nil || ttl < 59*time.Minute || ttl > time.Hour {
		t.Errorf("PTTL = %v, %v; want about an hour", ttl, err)
	}
}

func TestOutage(t *testing.T) {
	requireRedis(t)
	p := storetest.NewProxy(t, addr())
	s, err := redisstore.Open("redis://"+p.Addr+"/0", redisstore.Options{Prefix: storetest.Namespace(t) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.RunOutage(t, s, p)
}

func TestOpenBadURL(t *testing.T) {
	if _, err := redisstore.Open("http://nope", redisstore.Options{}); err == nil {
		t.Error("Open of a non-redis URL: no error")
	}
}
