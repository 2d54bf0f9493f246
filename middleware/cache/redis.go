package cache

// This file keeps entries in Redis, for caches shared by several gopaste
// processes or machines. Each entry is one Redis string, encoded with
// MarshalEntry, whose TTL is the entry's store time.

import (
	"context"
	"fmt"
	"time"

	"github.com/gopaste/gopaste/internal/redisconn"
)

// RedisStore is a Store over a Redis client. It is safe for concurrent use.
type RedisStore struct {
	client *redisconn.Client
}

// NewRedisStore returns a store using client. The caller owns and closes
// the client.
func NewRedisStore(client *redisconn.Client) *RedisStore {
	return &RedisStore{client: client}
}

// Get returns the entry under key; an entry that does not decode counts as
// missing and is deleted.
func (s *RedisStore) Get(ctx context.Context, key string) (*Entry, bool, error) {
	b, ok, err := s.client.Get(ctx, key)
	if err != nil {
		return nil, false, fmt.Errorf("cache: redis get: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	e, err := UnmarshalEntry(b)
	if err != nil {
		// Written by something else, or an older format: drop it.
		if derr := s.client.Del(ctx, key); derr != nil {
			return nil, false, fmt.Errorf("cache: redis delete corrupt entry: %w", derr)
		}
		return nil, false, nil
	}
	return e, true, nil
}

// Set stores e under key with TTL ttl.
func (s *RedisStore) Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	if err := s.client.Set(ctx, key, MarshalEntry(e), ttl); err != nil {
		return fmt.Errorf("cache: redis set: %w", err)
	}
	return nil
}

// Delete removes key.
func (s *RedisStore) Delete(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, key); err != nil {
		return fmt.Errorf("cache: redis delete: %w", err)
	}
	return nil
}

var _ Store = (*RedisStore)(nil)
