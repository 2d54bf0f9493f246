package altdemo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/gopaste/gopaste/auth/htpasswd"
	"github.com/gopaste/gopaste/form"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/traverse"
)

func init() {
	registry.RegisterApp("altdemo", factory,
		"Quixote's Altdemo: log in and out with a form, a session counting requests, the live sessions, the request context (needs the session filter)")
}

// factory reads secret, htpasswd and max_sessions.
func factory(c *registry.Config) (http.Handler, error) {
	secret := c.String("secret", "")
	if secret == "" {
		b := make([]byte, 32)
		rand.Read(b) // never fails (crypto/rand)
		secret = hex.EncodeToString(b)
		c.Warnf("secret", "not set: a random one is used, so forms only work within one process (set it under prefork, cgi or several servers)")
	} else if len(secret) < 16 {
		c.Errorf("secret", "must be at least 16 bytes")
	}
	o := Options{Logger: c.Logger}
	if path := c.Path("htpasswd", ""); path != "" {
		f, err := htpasswd.Open(path, c.Logger)
		if err != nil {
			c.Errorf("htpasswd", "%v", err)
		} else {
			o.Users = f
		}
	}
	max := c.Int("max_sessions", 100)
	if max < 1 {
		c.Errorf("max_sessions", "must be at least 1")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	csrf, err := form.NewCSRF(form.CSRFOptions{Secret: secret})
	if err != nil {
		return nil, c.Errorf("secret", "%v", err)
	}
	// The table outlives a reload, as the sessions do.
	o.Table, err = registry.Shared(c, fmt.Sprintf("altdemo table %d", max), func() (*Table, error) {
		return NewTable(max), nil
	})
	if err != nil {
		return nil, err
	}
	o.CSRF = csrf
	a, err := New(o)
	if err != nil {
		return nil, err
	}
	return traverse.Handler(a), nil
}
