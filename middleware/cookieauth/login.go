package cookieauth

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gopaste/gopaste/internal/csrf"
	"github.com/gopaste/gopaste/mount"
)

// Checker checks a user's password; *htpasswd.File is one.
type Checker interface {
	Check(user, password string) bool
}

// LoginOptions configure the login app.
type LoginOptions struct {
	Cookie Cookie
	// Users checks the credentials. Required.
	Users Checker
	// LogoutPath is the path, inside the app's mount, that clears the
	// cookie; "" means "/logout".
	LogoutPath string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets a record per login and failed login; nil means
	// slog.Default().
	Logger *slog.Logger
	// TrustedOrigins are origins ("https://example.com") whose
	// cross-origin POSTs are accepted, for a login form served from
	// another host; see [http.CrossOriginProtection.AddTrustedOrigin].
	TrustedOrigins []string
}

// maxFormBytes bounds the login form a client may post.
const maxFormBytes = 64 << 10

// NewLogin returns the login app. On any path but the logout path, GET
// shows a login form and POST checks the user and password it carries:
// good ones get the cookie and a 303 redirect to came_from (a relative
// path on this site, "/" otherwise); bad ones get the form again with
// status 401. On the logout path, GET shows a one-button form and POST
// clears the cookie and redirects to came_from the same way.
//
// Every POST must come from the app's own form (login CSRF): the form
// carries a token bound to a cookie (Cookie.Name + "_csrf", a random
// value the form's GET sets, the token its HMAC under the secret), and a
// cross-origin browser request (Sec-Fetch-Site, Origin) is refused as
// [http.CrossOriginProtection] refuses it. Either failure answers 403
// with a fresh form.
func NewLogin(o LoginOptions) (http.Handler, error) {
	if err := o.Cookie.validate(); err != nil {
		return nil, err
	}
	if o.Users == nil {
		return nil, errors.New("cookieauth: login has no users")
	}
	if o.LogoutPath == "" {
		o.LogoutPath = "/logout"
	}
	if !strings.HasPrefix(o.LogoutPath, "/") {
		return nil, errors.New("cookieauth: logout path must start with /")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	l := &login{o: o, cop: http.NewCrossOriginProtection(), csrf: csrf.Cookie{
		Name: o.Cookie.Name + "_csrf", Key: []byte(o.Cookie.Secret), Purpose: "gopaste-login-csrf-v1", Secure: o.Cookie.Secure,
	}}
	for _, origin := range o.TrustedOrigins {
		if err := l.cop.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("cookieauth: trusted origin: %w", err)
		}
	}
	return l, nil
}

type login struct {
	o    LoginOptions
	cop  *http.CrossOriginProtection
	csrf csrf.Cookie
}

// formPage is parsed on first use, not at start: every gopaste process
// links this package, most never shows the login form.
var formPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{if .Logout}}Log out{{else}}Log in{{end}}</title></head>
<body>
<h1>{{if .Logout}}Log out{{else}}Log in{{end}}</h1>
{{if .Failed}}<p role="alert">Wrong user name or password.</p>
{{end}}{{if .Expired}}<p role="alert">The form expired or came from another site; please send it again.</p>
{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<input type="hidden" name="came_from" value="{{.CameFrom}}">
{{if .Logout}}<p><button type="submit">Log out</button></p>
{{else}}<p><label>User name <input name="user" value="{{.User}}" autocomplete="username" required autofocus></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p>
{{end}}</form>
</body>
</html>
`))
})

type formData struct {
	Action, CameFrom, User, CSRF string
	Failed, Expired, Logout      bool
}

func (l *login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &l.o.Cookie
	if !mount.Canonical(w, r) {
		return
	}
	// The form posts back here; built like a redirect, it never names
	// another host ("//evil.example/" would send the password there).
	action := mount.Location(mount.ScriptName(r.Context()), r.URL.EscapedPath(), "")
	logout := r.URL.Path == l.o.LogoutPath
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		l.form(w, r, http.StatusOK, formData{Action: action, Logout: logout, CameFrom: safeRedirect(r.URL.Query().Get("came_from"))})
		return
	case http.MethodPost:
	default:
		methodNotAllowed(w)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	cameFrom := safeRedirect(r.PostForm.Get("came_from"))
	if !l.csrfOK(r) {
		l.o.Logger.Info("login form refused: cross-origin or no CSRF token", "remote_addr", r.RemoteAddr, "path", r.URL.Path)
		l.form(w, r, http.StatusForbidden, formData{Action: action, Logout: logout, CameFrom: cameFrom, Expired: true})
		return
	}
	if logout {
		c.clear(w)
		http.Redirect(w, r, cameFrom, http.StatusSeeOther)
		return
	}
	user, password := r.PostForm.Get("user"), r.PostForm.Get("password")
	if user == "" || !l.o.Users.Check(user, password) {
		l.o.Logger.Info("login failed", "user", user, "remote_addr", r.RemoteAddr)
		l.form(w, r, http.StatusUnauthorized, formData{Action: action, CameFrom: cameFrom, User: user, Failed: true})
		return
	}
	l.o.Logger.Info("login", "user", user, "remote_addr", r.RemoteAddr)
	c.set(w, user, l.o.Now())
	http.Redirect(w, r, cameFrom, http.StatusSeeOther)
}

// csrfOK reports whether the POST r (its form parsed) is same-origin as
// far as the browser says, and carries the token of its CSRF cookie.
func (l *login) csrfOK(r *http.Request) bool {
	if l.cop.Check(r) != nil {
		return false
	}
	return l.csrf.Valid(r, r.PostForm.Get("csrf_token"))
}

func methodNotAllowed(w http.ResponseWriter) {
	w.Header().Set("Allow", "GET, HEAD, POST")
	http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
}

func (l *login) form(w http.ResponseWriter, r *http.Request, status int, d formData) {
	d.CSRF = l.csrf.Token(w, r)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := formPage().Execute(w, d); err != nil {
		l.o.Logger.Warn("login form not written", "err", err)
	}
}

// safeRedirect returns s when it is a path on this site ("/x?y"), and "/"
// for anything that could leave it: an absolute or scheme-relative URL,
// backslashes (which browsers read as slashes), control characters.
func safeRedirect(s string) string {
	if s == "" || s[0] != '/' || len(s) > 2048 {
		return "/"
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' || b == 0x7f || b == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return s
}
