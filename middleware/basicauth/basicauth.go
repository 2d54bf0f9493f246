// Package basicauth implements HTTP Basic authentication (RFC 7617) as a
// filter, checking credentials against an htpasswd file as Apache's
// mod_auth_basic and Paste's auth_basic do.
//
// A request with good credentials reaches the next handler with the user
// in its context ([auth.User]); any other request gets 401 with a
// WWW-Authenticate challenge naming the realm. The Authorization header is
// passed on unchanged.
package basicauth

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/auth"
)

// Checker checks a user's password; *htpasswd.File is one.
type Checker interface {
	Check(user, password string) bool
}

// Options configure the filter.
type Options struct {
	// Realm is shown by browsers in the login prompt; "" means
	// "Restricted".
	Realm string
	// Users checks the credentials. Required.
	Users Checker
	// Logger gets a debug record per rejected request; nil means
	// slog.Default().
	Logger *slog.Logger
}

// New returns the filter.
func New(o Options) (func(http.Handler) http.Handler, error) {
	if o.Users == nil {
		return nil, errors.New("basicauth: no users")
	}
	if o.Realm == "" {
		o.Realm = "Restricted"
	}
	if strings.ContainsAny(o.Realm, "\"\\\r\n") || strings.ContainsFunc(o.Realm, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errors.New("basicauth: realm must not contain quotes, backslashes or control characters")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	challenge := `Basic realm="` + o.Realm + `", charset="UTF-8"`
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, password, ok := r.BasicAuth()
			if ok && user != "" && o.Users.Check(user, password) {
				next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), user)))
				return
			}
			if ok && o.Logger.Enabled(r.Context(), slog.LevelDebug) {
				o.Logger.Debug("basic auth rejected", "user", user, "remote_addr", r.RemoteAddr, "path", r.URL.Path)
			}
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		})
	}, nil
}
