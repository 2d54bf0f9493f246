package cookieauth

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/mount"
)

// Options configure the filter.
type Options struct {
	Cookie Cookie
	// ReissueTime, when positive, reissues a ticket older than this with
	// a fresh issue time, so that an active user stays logged in. Zero
	// means tickets are reissued only when signed with an old secret.
	ReissueTime time.Duration
	// LoginURL, when set, sends requests without a valid ticket there
	// (GET and HEAD with 302 and ?came_from=the original path; other
	// methods get 401). When empty, such requests pass on without a user.
	LoginURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// New returns the filter.
func New(o Options) (func(http.Handler) http.Handler, error) {
	if err := o.Cookie.validate(); err != nil {
		return nil, err
	}
	if o.ReissueTime < 0 {
		return nil, errors.New("cookieauth: negative reissue time")
	}
	if o.LoginURL != "" {
		u, err := url.Parse(o.LoginURL)
		if err != nil || (u.Path == "" && u.Host == "") {
			return nil, errors.New("cookieauth: login URL must be a path or an absolute URL")
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	c := o.Cookie
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			now := o.Now()
			t, ok := c.read(r, now)
			if !ok {
				if o.LoginURL == "" {
					next.ServeHTTP(w, r)
					return
				}
				if r.Method != http.MethodGet && r.Method != http.MethodHead {
					http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
					return
				}
				http.Redirect(w, r, loginRedirect(o.LoginURL, r), http.StatusFound)
				return
			}
			if t.Old || (o.ReissueTime > 0 && now.Sub(t.Issued) >= o.ReissueTime) {
				c.set(w, t.User, now)
			}
			next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), t.User)))
		})
	}, nil
}

// loginRedirect returns login with came_from set to the request's
// original path and query.
func loginRedirect(login string, r *http.Request) string {
	from := mount.ScriptName(r.Context()) + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		from += "?" + r.URL.RawQuery
	}
	sep := "?"
	if strings.Contains(login, "?") {
		sep = "&"
	}
	return login + sep + "came_from=" + url.QueryEscape(from)
}
