package session

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gopaste/gopaste/mount"
)

// Info is the session_info app, a demo and a debugging aid behind the
// session filter:
//
//	GET  any path   counts the visit, answers {"visits":N,"user":"...","created":"..."}
//	POST /login     form field user: sets the user and renews the token, 303 to ./
//	POST /logout    destroys the session, 303 to ./
//
// A POST that a browser sent from another origin (Sec-Fetch-Site, or an
// Origin that is not the request's host) is refused with 403, so another
// site cannot log a visitor in as someone else or out
// ([http.CrossOriginProtection]); clients that send neither header
// (curl, scripts) are let through.
type Info struct{}

// crossOrigin refuses the POSTs browsers send from other origins.
var crossOrigin = http.NewCrossOriginProtection()

func (Info) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := From(r.Context())
	if s == nil {
		http.Error(w, "session_info needs the session filter in front of it", http.StatusInternalServerError)
		return
	}
	if err := crossOrigin.Check(r); err != nil {
		http.Error(w, "403 Forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	home := mount.ScriptName(r.Context()) + "/"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/login":
		user := r.PostFormValue("user")
		if user == "" {
			http.Error(w, "form field user is required", http.StatusBadRequest)
			return
		}
		if err := s.RenewToken(r.Context()); err != nil {
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		s.SetUser(user) // cannot fail before the response starts
		http.Redirect(w, r, home, http.StatusSeeOther)
	case r.Method == http.MethodPost && r.URL.Path == "/logout":
		if err := s.Destroy(r.Context()); err != nil {
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, home, http.StatusSeeOther)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		n := s.GetInt("visits") + 1
		s.Put("visits", n) // an int always marshals; the response has not started
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(struct {
			Visits  int    `json:"visits"`
			User    string `json:"user"`
			Created string `json:"created"`
		}{n, s.User(), s.Created().UTC().Format(time.RFC3339)})
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}
