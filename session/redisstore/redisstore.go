// Package redisstore keeps sessions in Redis (through internal/redisconn),
// for sessions shared by several machines.
//
// A session is the string PREFIX+KEY holding the stored record (JSON),
// expiring through its Redis TTL: nothing needs cleaning up. An exclusive
// lock is PREFIX+"lock:"+KEY, taken with SET NX PX (a random owner token,
// the ttl) and released by a script that deletes it only for its owner;
// a crashed holder's lock lapses with its TTL. The compare-and-swap of
// optimistic locking is a server-side script, atomic in Redis.
package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gopaste/gopaste/internal/redisconn"
	"github.com/gopaste/gopaste/session"
)

// Options configure a [Store].
type Options struct {
	// Prefix is put before every key; default "gopaste:session:".
	Prefix string
}

// Store is a Redis session store. It is safe for concurrent use. Close
// closes the client.
type Store struct {
	c      *redisconn.Client
	prefix string
}

// New returns a store on client c, which it owns from then on.
func New(c *redisconn.Client, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "gopaste:session:"
	}
	return &Store{c: c, prefix: o.Prefix}
}

// Open connects to the Redis server at url (redis://[user:pass@]host:port/db,
// rediss:// for TLS, unix:///path; the query options are redisconn's).
func Open(url string, o Options) (*Store, error) {
	c, err := redisconn.Open(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	return New(c, o), nil
}

// Client returns the client, for benchmarks and tools.
func (s *Store) Client() *redisconn.Client { return s.c }

// Close closes the client.
func (s *Store) Close() error { return s.c.Close() }

// Find implements session.Store.
func (s *Store) Find(ctx context.Context, key string) ([]byte, bool, error) {
	b, ok, err := s.c.Get(ctx, s.prefix+key)
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: get: %w", err)
	}
	return b, ok, nil
}

// ttl is the Redis TTL for expiry; ok is false when it is already past.
func ttl(expiry time.Time) (time.Duration, bool) {
	d := time.Until(expiry)
	if d < time.Millisecond {
		return 0, false
	}
	return d, true
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	d, ok := ttl(expiry)
	var err error
	if ok {
		err = s.c.Set(ctx, s.prefix+key, data, d)
	} else {
		err = s.c.Del(ctx, s.prefix+key)
	}
	if err != nil {
		return fmt.Errorf("redisstore: set: %w", err)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.prefix+key); err != nil {
		return fmt.Errorf("redisstore: del: %w", err)
	}
	return nil
}

// swapScript: KEYS[1] the key; ARGV: "1" when old is absent, old, data,
// ttl in ms (0: delete).
var swapScript = redisconn.NewScript(1, `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
if ARGV[4] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
return 1
`)

// Swap implements session.Swapper with a server-side script.
func (s *Store) Swap(ctx context.Context, key string, old, data []byte, expiry time.Time) (bool, error) {
	absent := "0"
	if old == nil {
		absent = "1"
	}
	ms := int64(0)
	if d, ok := ttl(expiry); ok {
		ms = max(d.Milliseconds(), 1)
	}
	n, err := redisconn.Int(s.c.Run(ctx, swapScript, s.prefix+key, absent, old, data, strconv.FormatInt(ms, 10)))
	if err != nil {
		return false, fmt.Errorf("redisstore: swap: %w", err)
	}
	return n == 1, nil
}

var unlockScript = redisconn.NewScript(1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Lock implements session.Locker with SET NX PX and an owner token.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	owner := session.LockOwner()
	lk := s.prefix + "lock:" + key
	ttl = max(ttl, time.Millisecond) // 0 would mean a lock that never lapses
	err := session.WaitLock(ctx, func() (bool, error) { return s.c.SetNX(ctx, lk, owner, ttl) })
	if err != nil {
		return nil, fmt.Errorf("redisstore: lock: %w", err)
	}
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() {
			if _, e := s.c.Run(ctx, unlockScript, lk, owner); e != nil {
				err = fmt.Errorf("redisstore: unlock: %w", e)
			}
		})
		return err
	}, nil
}
