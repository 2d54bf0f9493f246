package example

import (
	"embed"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/form"
	"github.com/gopaste/gopaste/tmpl"
	"github.com/gopaste/gopaste/traverse"
)

//go:embed templates
var templates embed.FS

// Site is the guestbook: its root directory and its state.
type Site struct {
	traverse.Dir
	pages *tmpl.Set
	csrf  *form.CSRF

	// ReadOnly closes the guestbook for signing (during a migration,
	// say) without changing the tree.
	ReadOnly atomic.Bool

	mu      sync.Mutex
	entries []Entry
}

// Entry is one signature.
type Entry struct {
	Name, Message string
	Photo         string // the uploaded file's name, "" for none
}

// New returns the site. secret signs the forms' CSRF tokens; debug
// re-reads the templates on every request.
func New(secret string, debug bool) (*Site, error) {
	pages, err := tmpl.New(tmpl.Options{FS: templates, Pages: "templates/pages/*.html",
		Shared: []string{"templates/layouts/*.html"}, Debug: debug})
	if err != nil {
		return nil, err
	}
	csrf, err := form.NewCSRF(form.CSRFOptions{Secret: secret})
	if err != nil {
		return nil, err
	}
	s := &Site{pages: pages, csrf: csrf}
	s.Dir = traverse.Dir{
		Exports: map[string]http.Handler{
			"":      http.HandlerFunc(s.home),
			"sign":  http.HandlerFunc(s.sign),
			"entry": traverse.Handler(&traverse.Dir{Lookup: s.entry}),
			"admin": traverse.Handler(&traverse.Dir{
				Exports: map[string]http.Handler{"": http.HandlerFunc(s.admin)},
				Access:  loggedIn,
			}),
		},
	}
	return s, nil
}

// Traverse overrides the default to do something around it: every
// response says it may not be framed, and while the site is read-only
// the form's page is diverted to a notice, whatever its path below.
func (s *Site) Traverse(w http.ResponseWriter, r *http.Request, components []string) {
	w.Header().Set("X-Frame-Options", "DENY")
	if s.ReadOnly.Load() && len(components) > 0 && components[0] == "sign" {
		s.render(w, "closed", nil)
		return
	}
	s.Dir.Traverse(w, r, components)
}

// loggedIn lets users in and sends others to the login app mounted at
// /login, which brings them back.
func loggedIn(r *http.Request) error {
	if auth.User(r.Context()) == "" {
		return traverse.LoginRedirect(r, "/login")
	}
	return nil
}

// entry resolves /entry/N to the Nth signature (Quixote's _q_lookup).
func (s *Site) entry(r *http.Request, component string) http.Handler {
	id, err := strconv.Atoi(component)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || id < 1 || id > len(s.entries) {
		return nil // 404
	}
	e := s.entries[id-1]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.render(w, "entry", map[string]any{"ID": id, "Entry": e.HTML()})
	})
}

// HTML is the entry as markup, composed in Go: the name and message are
// escaped, the tags are not.
func (e Entry) HTML() template.HTML {
	var b tmpl.Builder
	b.Addf("<blockquote>%s</blockquote><p>— %s", e.Message, e.Name)
	if e.Photo != "" {
		b.Addf(" (with %s)", e.Photo)
	}
	b.Add(template.HTML("</p>"))
	return b.HTML()
}

func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var list []template.HTML
	for _, e := range s.entries {
		list = append(list, tmpl.Format("%s: %s", e.Name, e.Message))
	}
	s.mu.Unlock()
	s.render(w, "home", map[string]any{"Entries": list})
}

func (s *Site) admin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, string(tmpl.Format("<p>admin for %s</p>", auth.User(r.Context()))))
}

func (s *Site) render(w http.ResponseWriter, page string, data any) {
	if err := s.pages.Respond(w, http.StatusOK, page, data); err != nil {
		// Respond has answered 500; a real site logs err.
		return
	}
}
