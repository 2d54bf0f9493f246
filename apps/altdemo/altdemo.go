package altdemo

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gopaste/gopaste/apps/env"
	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/form"
	"github.com/gopaste/gopaste/internal/redact"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/tmpl"
	"github.com/gopaste/gopaste/traverse"
)

//go:embed templates
var templates embed.FS

// The session keys the app keeps.
const (
	keyRequests = "altdemo.requests"
	keyID       = "altdemo.id"
)

// Checker checks a user's password; *htpasswd.File is one.
type Checker interface {
	Check(user, password string) bool
}

// Options configure [New].
type Options struct {
	// CSRF makes and checks the forms' tokens. Required.
	CSRF *form.CSRF
	// Users checks the login form's password. nil means no password:
	// any name logs in, as in Quixote's Altdemo.
	Users Checker
	// Table is the sessions table; nil means a new one of MaxSessions.
	Table *Table
	// MaxSessions bounds a new Table; zero means 100.
	MaxSessions int
	// Logger logs store errors; nil means slog.Default().
	Logger *slog.Logger
}

// App is the Altdemo: a traverse.Dir of its pages. Serve it with
// traverse.Handler behind the session filter. It is safe for concurrent
// use.
type App struct {
	traverse.Dir
	o     Options
	pages *tmpl.Set
	log   *slog.Logger
}

// New returns the app o describes.
func New(o Options) (*App, error) {
	if o.CSRF == nil {
		return nil, errors.New("altdemo: no CSRF")
	}
	if o.Table == nil {
		o.Table = NewTable(o.MaxSessions)
	}
	pages, err := tmpl.New(tmpl.Options{FS: templates, Pages: "templates/pages/*.html",
		Shared: []string{"templates/layouts/*.html"}})
	if err != nil {
		return nil, err
	}
	a := &App{o: o, pages: pages, log: o.Logger}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.Dir = traverse.Dir{Exports: map[string]http.Handler{
		"":         http.HandlerFunc(a.index),
		"login":    http.HandlerFunc(a.login),
		"logout":   http.HandlerFunc(a.logout),
		"sessions": http.HandlerFunc(a.sessions),
		"context":  http.HandlerFunc(a.context),
	}}
	return a, nil
}

// Traverse counts the request in the session and notes the session in
// the table before the default traversal, as Quixote's altdemo session
// did in start_request; the session's user becomes the request's
// (auth.User, REMOTE_USER).
func (a *App) Traverse(w http.ResponseWriter, r *http.Request, components []string) {
	s := session.From(r.Context())
	if s == nil {
		http.Error(w, "altdemo needs the session filter in front of it", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if len(components) > 0 { // not the redirect to the trailing slash
		// Put fails only once the response has started; it has not.
		s.Put(keyRequests, s.GetInt(keyRequests)+1)
		if s.GetString(keyID) == "" {
			s.Put(keyID, newID())
		}
		a.note(s)
	}
	if u := s.User(); u != "" {
		r = r.WithContext(auth.WithUser(r.Context(), u))
	}
	a.Dir.Traverse(w, r, components)
}

// note records s in the table.
func (a *App) note(s *session.Session) {
	a.o.Table.Note(Row{ID: s.GetString(keyID), User: s.User(), Requests: s.GetInt(keyRequests),
		Created: s.Created(), Seen: time.Now()})
}

func newID() string {
	b := make([]byte, 6)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// home is the URL of the index, below the app's mount.
func home(r *http.Request) string {
	return mount.Location(mount.ScriptName(r.Context()), "/", "")
}

func (a *App) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	s := session.From(r.Context())
	data["User"] = s.User()
	data["Requests"] = s.GetInt(keyRequests)
	if err := a.pages.Respond(w, status, page, data); err != nil {
		a.log.Error("altdemo page", "page", page, "err", err)
	}
}

func (a *App) index(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	a.render(w, r, http.StatusOK, "index", map[string]any{
		"Session": s.GetString(keyID), "Created": s.Created().UTC().Format(time.RFC3339),
	})
}

// login shows the login form until it is sent with a name (and the
// right password when Users is set), then logs the session in: a new
// token against session fixation, the user set, back to the index.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	f := form.New(w, r, a.o.CSRF)
	name := &form.String{Field: form.Field{Name: "user", Title: "Your name", Required: true}, MaxLen: 40}
	f.Add(name)
	var password *form.Password
	if a.o.Users != nil {
		password = &form.Password{Field: form.Field{Name: "password", Title: "Password", Required: true}, MaxLen: 200}
		f.Add(password)
	}
	f.Add(&form.Submit{Field: form.Field{Name: "login"}, Label: "Log in"})

	status := http.StatusOK
	if f.IsSubmitted() && !f.HasErrors() && password != nil && !a.o.Users.Check(name.Value, password.Value) {
		f.Error = "Unknown user or wrong password."
		status = http.StatusUnauthorized
	}
	if !f.IsSubmitted() || f.HasErrors() {
		a.render(w, r, status, "login", map[string]any{"Form": f.Render()})
		return
	}
	s := session.From(r.Context())
	if err := s.RenewToken(r.Context()); err != nil {
		a.log.Error("altdemo login", "err", err)
		http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	s.SetUser(name.Value) // cannot fail: the response has not started
	a.note(s)
	http.Redirect(w, r, home(r), http.StatusSeeOther)
}

// logout shows a one-button form; sent, it ends the session.
func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	f := form.New(w, r, a.o.CSRF)
	f.Add(&form.Submit{Field: form.Field{Name: "logout"}, Label: "Log out"})
	if !f.IsSubmitted() || f.HasErrors() {
		a.render(w, r, http.StatusOK, "logout", map[string]any{"Form": f.Render()})
		return
	}
	s := session.From(r.Context())
	id := s.GetString(keyID)
	if err := s.Destroy(r.Context()); err != nil {
		a.log.Error("altdemo logout", "err", err)
		http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	a.o.Table.Forget(id)
	http.Redirect(w, r, home(r), http.StatusSeeOther)
}

// sessionRow is a table row as the page shows it.
type sessionRow struct {
	Row
	Current       bool
	Created, Seen string
}

func (a *App) sessions(w http.ResponseWriter, r *http.Request) {
	current := session.From(r.Context()).GetString(keyID)
	now := time.Now()
	var rows []sessionRow
	for _, row := range a.o.Table.Rows() {
		rows = append(rows, sessionRow{Row: row, Current: row.ID == current,
			Created: row.Created.UTC().Format(time.RFC3339),
			Seen:    now.Sub(row.Seen).Round(time.Second).String() + " ago"})
	}
	a.render(w, r, http.StatusOK, "sessions", map[string]any{"Rows": rows, "PID": os.Getpid()})
}

// variable is one name and value the context page shows.
type variable struct{ Name, Value string }

// context shows the request as CGI variables (those whose names look
// secret masked, as the env app does), its cookies (names and sizes:
// one of them is the session's key) and the session.
func (a *App) context(w http.ResponseWriter, r *http.Request) {
	var vars, cookies, values []variable
	for k, v := range env.Vars(r) {
		if k == "HTTP_COOKIE" {
			v = "(" + strconv.Itoa(len(r.Cookies())) + " cookies, below)"
		}
		vars = append(vars, variable{k, redact.Value(k, v)}) // HTTP_AUTHORIZATION, ...
	}
	for _, c := range r.Cookies() {
		cookies = append(cookies, variable{c.Name, strconv.Itoa(len(c.Value)) + " characters, not shown"})
	}
	s := session.From(r.Context())
	for _, k := range s.Keys() {
		var raw json.RawMessage
		v := "(hidden)"
		if !strings.HasPrefix(k, "gopaste.") { // the CSRF binding value
			s.Get(k, &raw) // a stored value is valid JSON
			v = string(raw)
		}
		values = append(values, variable{k, v})
	}
	byName := func(a, b variable) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(vars, byName)
	a.render(w, r, http.StatusOK, "context", map[string]any{
		"Vars": vars, "Cookies": cookies, "Values": values,
		"Created": s.Created().UTC().Format(time.RFC3339),
	})
}

var _ traverse.Directory = (*App)(nil)
