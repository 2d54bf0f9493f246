package main

import (
	"embed"
	"log/slog"
	"net/http"

	"github.com/gopaste/gopaste/auth/htpasswd"
	"github.com/gopaste/gopaste/form"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/tmpl"
	"github.com/gopaste/gopaste/traverse"
)

//go:embed templates
var templates embed.FS

// Notes is the site: its pages, the forms' CSRF protection and the
// users' passwords.
type Notes struct {
	traverse.Dir
	pages *tmpl.Set
	csrf  *form.CSRF
	users *htpasswd.File
}

// newNotes builds the app from its ini section: keys secret and htpasswd.
func newNotes(c *registry.Config) (http.Handler, error) {
	csrf, err := form.NewCSRF(form.CSRFOptions{Secret: c.Required("secret")})
	if err != nil {
		return nil, c.Errorf("secret", "%v", err)
	}
	users, err := htpasswd.Open(c.Path("htpasswd", "users.htpasswd"), c.Logger)
	if err != nil {
		return nil, c.Errorf("htpasswd", "%v", err)
	}
	pages, err := tmpl.New(tmpl.Options{FS: templates, Pages: "templates/*.html",
		Shared: []string{"templates/layout/*.html"}})
	if err != nil {
		return nil, err
	}
	n := &Notes{pages: pages, csrf: csrf, users: users}
	n.Dir = traverse.Dir{Exports: map[string]http.Handler{
		"":       http.HandlerFunc(n.home),
		"login":  http.HandlerFunc(n.login),
		"logout": http.HandlerFunc(n.logout),
	}}
	return traverse.Handler(n), c.Err()
}

// Traverse checks that the session filter is in front before the
// default traversal: every page needs the session.
func (n *Notes) Traverse(w http.ResponseWriter, r *http.Request, components []string) {
	if session.From(r.Context()) == nil {
		http.Error(w, "notes needs the session filter in front of it", http.StatusInternalServerError)
		return
	}
	n.Dir.Traverse(w, r, components)
}

// render writes a page; when that fails, Respond has answered 500.
func (n *Notes) render(w http.ResponseWriter, page string, data map[string]any) {
	if err := n.pages.Respond(w, http.StatusOK, page, data); err != nil {
		slog.Error("notes: page", "page", page, "err", err)
	}
}
