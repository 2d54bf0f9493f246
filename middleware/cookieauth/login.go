package cookieauth

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

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
}

// maxFormBytes bounds the login form a client may post.
const maxFormBytes = 64 << 10

// NewLogin returns the login app. On any path but the logout path, GET
// shows a login form and POST checks the user and password it carries:
// good ones get the cookie and a 303 redirect to came_from (a relative
// path on this site, "/" otherwise); bad ones get the form again with
// status 401. The logout path clears the cookie and redirects to
// came_from the same way.
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
	return &login{o: o}, nil
}

type login struct{ o LoginOptions }

var formPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Log in</title></head>
<body>
<h1>Log in</h1>
{{if .Failed}}<p role="alert">Wrong user name or password.</p>
{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="came_from" value="{{.CameFrom}}">
<p><label>User name <input name="user" value="{{.User}}" autocomplete="username" required autofocus></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p>
</form>
</body>
</html>
`))

type formData struct {
	Action, CameFrom, User string
	Failed                 bool
}

func (l *login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &l.o.Cookie
	if r.URL.Path == l.o.LogoutPath {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
			methodNotAllowed(w)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		c.clear(w)
		http.Redirect(w, r, safeRedirect(r.FormValue("came_from")), http.StatusSeeOther)
		return
	}
	action := mount.ScriptName(r.Context()) + r.URL.EscapedPath()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		l.form(w, http.StatusOK, formData{Action: action, CameFrom: safeRedirect(r.URL.Query().Get("came_from"))})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "400 Bad Request", http.StatusBadRequest)
			return
		}
		user, password := r.PostForm.Get("user"), r.PostForm.Get("password")
		cameFrom := safeRedirect(r.PostForm.Get("came_from"))
		if user == "" || !l.o.Users.Check(user, password) {
			l.o.Logger.Info("login failed", "user", user, "remote_addr", r.RemoteAddr)
			l.form(w, http.StatusUnauthorized, formData{Action: action, CameFrom: cameFrom, User: user, Failed: true})
			return
		}
		l.o.Logger.Info("login", "user", user, "remote_addr", r.RemoteAddr)
		c.set(w, user, l.o.Now())
		http.Redirect(w, r, cameFrom, http.StatusSeeOther)
	default:
		methodNotAllowed(w)
	}
}

func methodNotAllowed(w http.ResponseWriter) {
	w.Header().Set("Allow", "GET, HEAD, POST")
	http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
}

func (l *login) form(w http.ResponseWriter, status int, d formData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := formPage.Execute(w, d); err != nil {
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
