// Package altdemo is the altdemo app: Quixote's Altdemo, the one-file
// application the article ran "in the widest variety of WSGI
// environments", built with gopaste's framework pieces (traverse, form,
// tmpl) over the session filter. Its pages:
//
//	/          who you are, how many requests your session has made, links
//	/login     a form (name, and a password when Options.Users is set) with a CSRF token
//	/logout    a one-button form; POST ends the session
//	/sessions  a table of the live sessions this process has seen
//	/context   the request as CGI variables, its cookies, the session
//
// The app needs the session filter in front of it (session.From): it
// answers 500 without one. The session holds the user (Session.User),
// the request count and a short random label that names the session in
// the table; the token is never shown.
//
// The session stores have no way to list their sessions (by design, see
// package session), so the table is kept by the app: the sessions this
// process has served, most recent first, at most Options.MaxSessions of
// them. Under prefork each worker has its own table; under the cgi
// server each request is a new process, whose table holds the current
// session only. The current session's row always shows the session's
// own values.
package altdemo
