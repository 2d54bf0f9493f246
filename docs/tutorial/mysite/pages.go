package main

import (
	"net/http"

	"github.com/gopaste/gopaste/form"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/session"
)

// home lists the user's notes, kept in the session, with a form that
// adds one.
func (n *Notes) home(w http.ResponseWriter, r *http.Request) {
	s := session.From(r.Context())
	var notes []string
	s.Get("notes", &notes) // none yet: an empty list
	visits := s.GetInt("visits") + 1
	s.Put("visits", visits) // saved when the response starts

	f := form.New(w, r, n.csrf)
	note := &form.Text{Field: form.Field{Name: "note", Title: "A note", Required: true}, MaxLen: 200, Rows: 2}
	f.Add(note, &form.Submit{Field: form.Field{Name: "add"}, Label: "Add"})
	if f.IsSubmitted() && s.User() == "" {
		f.Error = "Log in first."
	}
	if !f.IsSubmitted() || f.HasErrors() {
		n.render(w, "home", map[string]any{
			"User": s.User(), "Visits": visits, "Notes": notes, "Form": f.Render()})
		return
	}
	s.Put("notes", append(notes, note.Value))
	http.Redirect(w, r, home(r), http.StatusSeeOther)
}

// login checks a name and password against the htpasswd file; a good
// pair puts the user in the session, under a new token.
func (n *Notes) login(w http.ResponseWriter, r *http.Request) {
	f := form.New(w, r, n.csrf)
	user := &form.String{Field: form.Field{Name: "user", Title: "Name", Required: true}}
	password := &form.Password{Field: form.Field{Name: "password", Title: "Password", Required: true}}
	f.Add(user, password, &form.Submit{Field: form.Field{Name: "login"}, Label: "Log in"})
	if f.IsSubmitted() && !f.HasErrors() && !n.users.Check(user.Value, password.Value) {
		f.Error = "Wrong name or password."
	}
	if !f.IsSubmitted() || f.HasErrors() {
		n.render(w, "login", map[string]any{"Form": f.Render()})
		return
	}
	s := session.From(r.Context())
	if err := s.RenewToken(r.Context()); err != nil {
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	s.SetUser(user.Value) // cannot fail: the response has not started
	http.Redirect(w, r, home(r), http.StatusSeeOther)
}

// logout ends the session on a POST from its one-button form.
func (n *Notes) logout(w http.ResponseWriter, r *http.Request) {
	f := form.New(w, r, n.csrf)
	f.Add(&form.Submit{Field: form.Field{Name: "logout"}, Label: "Log out"})
	if !f.IsSubmitted() || f.HasErrors() {
		n.render(w, "logout", map[string]any{"Form": f.Render()})
		return
	}
	if err := session.From(r.Context()).Destroy(r.Context()); err != nil {
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, home(r), http.StatusSeeOther)
}

// home is the URL of the home page, below the site's mount.
func home(r *http.Request) string {
	return mount.Location(mount.ScriptName(r.Context()), "/", "")
}
