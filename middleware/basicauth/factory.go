package basicauth

import (
	"net/http"

	"github.com/gopaste/gopaste/auth/htpasswd"
	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("basicauth", factory,
		"HTTP Basic authentication against an htpasswd file", "egg:Paste#auth_basic")
}

// factory reads keys realm and htpasswd.
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	realm := c.String("realm", "Restricted")
	c.Required("htpasswd")
	path := c.Path("htpasswd", "")
	if err := c.Err(); err != nil {
		return nil, err
	}
	f, err := htpasswd.Open(path, c.Logger)
	if err != nil {
		return nil, c.Errorf("htpasswd", "%v", err)
	}
	c.Watch(path)
	mw, err := New(Options{Realm: realm, Users: f, Logger: c.Logger})
	if err != nil {
		return nil, c.Errorf("realm", "%v", err)
	}
	return mw, nil
}
