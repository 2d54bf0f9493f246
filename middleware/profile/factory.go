package profile

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("profile", factory,
		"Go runtime profiles (pprof) under a prefix, for requests carrying a key", "egg:Paste#profile")
}

// MinKeyLength is the key length below which the factory warns.
const MinKeyLength = 16

func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{
		Prefix: c.String("prefix", DefaultPrefix),
		Key:    c.Required("key"),
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	if len(o.Key) < MinKeyLength {
		c.Warnf("key", "a key of %d characters can be guessed, and it opens the process's heap, goroutines and CPU "+
			"profiles; use %d or more random characters", len(o.Key), MinKeyLength)
	}
	mw, err := New(o)
	if err != nil {
		return nil, c.Errorf("prefix", "%v", err)
	}
	return mw, nil
}
