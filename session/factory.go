package session

import (
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("session", filterFactory,
		"sessions in memory, files, SQLite, Redis or PostgreSQL, with locking",
		"egg:Paste#session", "egg:Beaker#beaker_session")
	registry.RegisterApp("session_info", func(c *registry.Config) (http.Handler, error) {
		return Info{}, c.Err()
	}, "session demo: counts visits, POST /login and /logout")
}

func filterFactory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{Logger: c.Logger}
	storeName := strings.TrimSpace(c.String("store", "memory"))
	o.CookieName = c.String("cookie_name", "session")
	if !validCookieName(o.CookieName) {
		c.Errorf("cookie_name", "%q is not a cookie name", o.CookieName)
	}
	o.CookiePath = c.String("cookie_path", "/")
	o.CookieDomain = c.String("cookie_domain", "")
	switch v := strings.ToLower(strings.TrimSpace(c.String("secure", "auto"))); v {
	case "auto", "":
		o.Secure = SecureAuto
	default:
		b, err := registry.ParseBool(v)
		if err != nil {
			c.Errorf("secure", "%q is not auto or a boolean", v)
		} else if b {
			o.Secure = SecureAlways
		} else {
			o.Secure = SecureNever
		}
	}
	o.ScriptAccess = !c.Bool("httponly", true)
	switch c.OneOf("samesite", "lax", "lax", "strict", "none") {
	case "lax":
		o.SameSite = http.SameSiteLaxMode
	case "strict":
		o.SameSite = http.SameSiteStrictMode
	case "none":
		o.SameSite = http.SameSiteNoneMode
	}
	o.IdleTimeout = c.Duration("idle_timeout", 0)
	o.Lifetime = c.Duration("lifetime", 0)
	if c.Has("lifetime") && o.Lifetime == 0 {
		c.Errorf("lifetime", "must be more than 0")
	}
	switch c.OneOf("lock", "none", "none", "exclusive", "optimistic") {
	case "exclusive":
		o.Lock = LockExclusive
	case "optimistic":
		o.Lock = LockOptimistic
	}
	o.LockTimeout = c.Duration("lock_timeout", 0)
	if c.Has("lock_timeout") && o.LockTimeout == 0 {
		c.Errorf("lock_timeout", "must be more than 0")
	}
	o.ContinueOnStoreError = c.OneOf("on_store_error", "fail", "fail", "continue") == "continue"
	o.ConflictStatus = c.Int("conflict_status", http.StatusConflict)
	if o.ConflictStatus < 400 || o.ConflictStatus > 599 {
		c.Errorf("conflict_status", "%d is not an HTTP error status (400-599)", o.ConflictStatus)
	}
	so := StoreOptions{CleanupInterval: c.Duration("cleanup_interval", 0)}
	if c.Has("cleanup_interval") && so.CleanupInterval == 0 {
		c.Errorf("cleanup_interval", "must be more than 0")
	}
	reg := c.Registry
	if reg == nil {
		reg = registry.Default
	}
	sf, ok := lookupStore(reg, storeName)
	if !ok {
		c.Errorf("store", "unknown store %q (have: %s)", storeName, strings.Join(storeNames(reg), ", "))
		return nil, c.Err()
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	st, err := sf(c, so)
	if err != nil {
		return nil, err
	}
	o.Store = st
	m, err := New(o)
	if err != nil {
		return nil, c.Errorf("", "%v", err)
	}
	return m.Handler, c.Err()
}
