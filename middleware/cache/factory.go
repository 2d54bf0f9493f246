package cache

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/internal/redisconn"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("cache", factory,
		"shared HTTP response cache (Cache-Control, Vary, ETag) in memory or Redis")
}

// factory reads: url (redis://... for Redis; empty: memory), max_bytes
// (memory only, default 64M), max_entry_bytes (default 1M), default_ttl
// (default 0), keep_stale (default 0), key_prefix (default
// "gopaste:cache:"). The memory store outlives a reload: the next
// generation of the section finds it through registry.Shared, unless
// max_bytes changed.
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{
		MaxEntryBytes: c.Size("max_entry_bytes", 1<<20),
		DefaultTTL:    c.Duration("default_ttl", 0),
		KeepStale:     c.Duration("keep_stale", 0),
		KeyPrefix:     c.String("key_prefix", "gopaste:cache:"),
		Logger:        c.Logger,
	}
	if o.MaxEntryBytes <= 0 {
		c.Errorf("max_entry_bytes", "must be more than 0")
	}
	url := strings.TrimSpace(c.String("url", ""))
	switch {
	case url == "":
		maxBytes := c.Size("max_bytes", DefaultMaxBytes)
		if maxBytes <= 0 {
			c.Errorf("max_bytes", "must be more than 0")
			break
		}
		s, err := registry.Shared(c, fmt.Sprintf("cache memory max_bytes=%d", maxBytes), func() (*MemoryStore, error) {
			return NewMemoryStore(maxBytes, nil), nil
		})
		if err != nil {
			return nil, err
		}
		o.Store = s
	case strings.HasPrefix(url, "redis://") || strings.HasPrefix(url, "rediss://") || strings.HasPrefix(url, "unix://"):
		if c.Has("max_bytes") {
			c.MarkRead("max_bytes")
			c.Errorf("max_bytes", "applies to the memory store only; Redis bounds its own memory (maxmemory)")
		}
		client, err := redisconn.Open(url) // connects on the first command
		if err != nil {
			c.Errorf("url", "%v", err)
			break
		}
		c.OnClose(client)
		o.Store = NewRedisStore(client)
	default:
		c.Errorf("url", "%q is not a redis:// URL (leave it out for the memory store)", url)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return New(o).Wrap, nil
}
