package profile

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("profile", factory,
		"Go runtime profiles (pprof) under a prefix, for requests carrying a key", "egg:Paste#profile")
}

func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{
		Prefix: c.String("prefix", DefaultPrefix),
		Key:    c.Required("key"),
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	mw, err := New(o)
	if err != nil {
		return nil, c.Errorf("prefix", "%v", err)
	}
	return mw, nil
}
