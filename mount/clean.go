package mount

// This file holds the one path check every part that matches on a path
// uses (urlmap, cascade, static, rewrite, redirect, gopaste route), so
// that routing decides on the same path the apps below it see.

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// CleanPath returns the canonical form of the (decoded) request path p:
// runs of slashes collapsed, "." and ".." segments resolved (never above
// the root), a missing leading slash added, a trailing slash kept. ""
// (the root of a mount, as urlmap passes /blog to the app at /blog) and
// "*" (OPTIONS *) are returned as they are.
//
// A backslash is an ordinary byte here, as it is in a file name on Unix;
// [Location] escapes it.
func CleanPath(p string) string {
	if p == "" || p == "*" {
		return p
	}
	np := p
	if np[0] != '/' {
		np = "/" + np
	}
	np = path.Clean(np)
	if np != "/" && strings.HasSuffix(p, "/") {
		np += "/"
	}
	return np
}

// Canonical reports whether r's path is clean ([CleanPath] returns it
// unchanged) and free of NUL bytes. When it is not, Canonical has answered
// r: a NUL byte gets 400; any other unclean path gets a redirect to the
// clean one, 301 for GET and HEAD and 308 for other methods (which keeps
// the method and body), with the mount prefix and query kept. The caller
// returns at once when Canonical reports false.
//
// Composites call it before matching, apps before opening anything, so
// "//admin", "/./admin" and "/x/../admin" are never matched as anything
// but "/admin".
func Canonical(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	if strings.IndexByte(p, 0) >= 0 {
		http.Error(w, "400 Bad Request: NUL in path", http.StatusBadRequest)
		return false
	}
	clean := CleanPath(p)
	if clean == p {
		return true
	}
	// Keep the client's escaping (an encoded %2F stays encoded) when the
	// cleaned escaped path still decodes to the clean path.
	esc := ""
	if raw := r.URL.RawPath; raw != "" {
		if cr := CleanPath(raw); unescapes(cr, clean) {
			esc = cr
		}
	}
	if esc == "" {
		esc = (&url.URL{Path: clean}).EscapedPath()
	}
	code := http.StatusMovedPermanently
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		code = http.StatusPermanentRedirect
	}
	loc := Location(ScriptName(r.Context()), esc, r.URL.RawQuery)
	w.Header().Set("Location", loc)
	w.WriteHeader(code)
	return false
}

func unescapes(escaped, want string) bool {
	p, err := url.PathUnescape(escaped)
	return err == nil && p == want
}

// Location returns the Location header value for a redirect to a path on
// this site: scriptName (decoded, as [ScriptName] returns it) followed by
// escapedPath (already URL-escaped) and, when rawQuery is not empty, "?"
// and rawQuery. Every Location gopaste builds from a request path goes
// through it.
//
// The result always starts with exactly one "/" that is not followed by
// another "/" or a "\": browsers read "//host" and "/\host" as another
// site, so such a prefix is collapsed (an open redirect refused), and a
// backslash anywhere is sent escaped as %5C.
func Location(scriptName, escapedPath, rawQuery string) string {
	s := (&url.URL{Path: scriptName}).EscapedPath() + strings.ReplaceAll(escapedPath, `\`, "%5C")
	s = "/" + strings.TrimLeft(s, `/\`)
	if rawQuery != "" {
		s += "?" + rawQuery
	}
	return s
}
