package cookieauth

import (
	"net/http"

	"github.com/gopaste/gopaste/auth/htpasswd"
	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("cookieauth", filterFactory,
		"login by a signed cookie (HMAC-SHA256 ticket); sets the request's user", "egg:Paste#auth_tkt")
	registry.RegisterApp("login", loginFactory,
		"login form checking an htpasswd file; sets the cookieauth cookie")
}

// cookie reads the keys the filter and the login app share.
func cookie(c *registry.Config) Cookie {
	return Cookie{
		Name:       c.String("cookie_name", DefaultName),
		Secret:     c.Required("secret"),
		Timeout:    c.Duration("timeout", DefaultTimeout),
		Secure:     c.Bool("secure", false),
		NoHTTPOnly: !c.Bool("httponly", true),
	}
}

// cookieError files a Cookie validation error under the key it is about.
func cookieError(c *registry.Config, ck Cookie) bool {
	if err := ck.validate(); err != nil {
		key := "secret"
		switch {
		case !isToken(ck.Name):
			key = "cookie_name"
		case len(ck.Secret) >= MinSecretLength && len(ck.OldSecrets) > 0:
			key = "old_secrets"
		}
		c.Errorf(key, "%v", err)
		return true
	}
	return false
}

func filterFactory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	ck := cookie(c)
	ck.OldSecrets = c.List("old_secrets")
	o := Options{
		ReissueTime: c.Duration("reissue_time", 0),
		LoginURL:    c.String("login_url", ""),
		Logger:      c.Logger,
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	if cookieError(c, ck) {
		return nil, c.Err()
	}
	o.Cookie = ck
	mw, err := New(o)
	if err != nil {
		return nil, c.Errorf("login_url", "%v", err)
	}
	return mw, nil
}

func loginFactory(c *registry.Config) (http.Handler, error) {
	ck := cookie(c)
	c.Required("htpasswd")
	path := c.Path("htpasswd", "")
	logout := c.String("logout_path", "/logout")
	trusted := c.List("trusted_origins")
	for _, o := range trusted {
		if err := http.NewCrossOriginProtection().AddTrustedOrigin(o); err != nil {
			c.Errorf("trusted_origins", "%v", err)
		}
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	if cookieError(c, ck) {
		return nil, c.Err()
	}
	users, err := htpasswd.Open(path, c.Logger)
	if err != nil {
		return nil, c.Errorf("htpasswd", "%v", err)
	}
	c.Watch(path)
	h, err := NewLogin(LoginOptions{Cookie: ck, Users: users, LogoutPath: logout, Logger: c.Logger, TrustedOrigins: trusted})
	if err != nil {
		return nil, c.Errorf("logout_path", "%v", err)
	}
	return h, nil
}
