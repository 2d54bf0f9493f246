// Package traverse resolves URLs by object traversal, as Quixote's
// Directory does: "/blog/2024/post" is served by asking the root
// [Directory] to traverse the components ["blog", "2024", "post"]; the
// root hands ["2024", "post"] to its "blog" directory, and so on down to
// the handler that serves the last component.
//
// [Dir], embedded in a type (or used as it is), is Quixote's default
// _q_traverse: it finds a component in its Exports (Quixote's
// _q_exports), asks its Lookup for anything else (_q_lookup, for
// components that are data: a post id, a user name), checks its Access
// before serving anything below it (_q_access), and redirects a
// directory reached without its trailing slash to the path with the
// slash, as Quixote does, so that relative links in its index resolve
// below it. A type that embeds Dir and defines its own Traverse does
// anything else around or instead of the default: wrap every page in a
// header and footer, divert to a login form, serve a whole subtree
// another way.
//
// [Handler] makes an [http.Handler] of a root Directory. It serves
// clean paths only (others are redirected by [mount.Canonical]) and
// splits the path below the request's mount ([mount.ScriptName]) into
// components: "/" is [""] (the root's index), "/a/b/" is ["a", "b",
// ""], an escaped slash ("%2F") stays inside its component.
//
// Not supported: Quixote's _q_translate (component names that are not
// Go-friendly are just map keys here) and _q_resolve (lazy imports).
package traverse

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gopaste/gopaste/mount"
)

// Directory serves every URL below it: components are the path
// components left after the directory's own, "" last when the path ends
// in a slash, none when the directory was reached without its slash.
type Directory interface {
	Traverse(w http.ResponseWriter, r *http.Request, components []string)
}

// Dir is the default Directory, to use as it is or embed: a type that
// embeds it and defines Traverse calls d.Dir.Traverse for the default
// behaviour. Set its fields before serving; a Dir is safe for
// concurrent use as long as they are not changed while it serves.
type Dir struct {
	// Exports maps a component to what serves it: a handler that is
	// also a [Directory] (such as [Handler] returns) is traversed with
	// the remaining components; any other handler serves the last
	// component only (a path going on below it is 404). "" is the
	// index, served for the directory's path with its trailing slash.
	Exports map[string]http.Handler
	// Lookup resolves a component Exports does not name, as Quixote's
	// _q_lookup: it returns what serves it (a handler or a Directory
	// handler, as in Exports), or nil for 404. nil means none.
	Lookup func(r *http.Request, component string) http.Handler
	// Access is checked when a request enters the directory, before
	// anything in or below it is served or redirected, as Quixote's
	// _q_access: nil lets the request in. An error wrapping
	// [ErrNotFound] answers 404 (not telling that the directory
	// exists), a [*RedirectError] (see [LoginRedirect]) a 303 to its
	// URL, any other error 403 Forbidden; the error's text is never
	// sent to the client. nil means open to all.
	Access func(r *http.Request) error
}

// ErrNotFound is the error an Access func wraps to answer 404 instead
// of 403.
var ErrNotFound = errors.New("traverse: not found")

// RedirectError is the error an Access func returns to send the client
// elsewhere (usually a login page) instead of a 403.
type RedirectError struct {
	// URL is the redirect target, a URL the application trusts (never
	// one taken from the request).
	URL string
}

func (e *RedirectError) Error() string { return "traverse: redirect to " + e.URL }

// LoginRedirect returns the error an Access func returns to send a user
// who is not logged in to the login page at loginURL (a trusted URL,
// such as the login app's mount), with came_from set to the path and
// query of r as the client sent it, so the login app (see
// middleware/cookieauth) brings the user back after logging in.
func LoginRedirect(r *http.Request, loginURL string) error {
	back := mount.Location(mount.ScriptName(r.Context()), r.URL.EscapedPath(), r.URL.RawQuery)
	sep := "?"
	if strings.Contains(loginURL, "?") {
		sep = "&"
	}
	return &RedirectError{URL: loginURL + sep + "came_from=" + url.QueryEscape(back)}
}

// Traverse serves components with the default behaviour described on
// [Dir]'s fields.
func (d *Dir) Traverse(w http.ResponseWriter, r *http.Request, components []string) {
	if d.Access != nil {
		if err := d.Access(r); err != nil {
			Deny(w, r, err)
			return
		}
	}
	if len(components) == 0 {
		RedirectSlash(w, r)
		return
	}
	c := components[0]
	h, ok := d.Exports[c]
	if !ok && d.Lookup != nil {
		h = d.Lookup(r, c)
	}
	if h == nil {
		http.NotFound(w, r)
		return
	}
	Serve(w, r, h, components[1:])
}

// Serve serves the components left below h: a Directory traverses
// them; any other handler serves the request when none are left, and
// answers 404 otherwise. A Traverse of one's own calls it with what it
// resolved a component to.
func Serve(w http.ResponseWriter, r *http.Request, h http.Handler, rest []string) {
	if sub, ok := h.(Directory); ok {
		sub.Traverse(w, r, rest)
		return
	}
	if len(rest) > 0 {
		http.NotFound(w, r)
		return
	}
	h.ServeHTTP(w, r)
}

// Deny answers a request an Access func refused with err, as [Dir]
// documents: 404 for [ErrNotFound], 303 for a [*RedirectError], 403
// otherwise.
func Deny(w http.ResponseWriter, r *http.Request, err error) {
	var re *RedirectError
	switch {
	case errors.As(err, &re):
		http.Redirect(w, r, re.URL, http.StatusSeeOther)
	case errors.Is(err, ErrNotFound):
		http.NotFound(w, r)
	default:
		http.Error(w, "403 Forbidden", http.StatusForbidden)
	}
}

// RedirectSlash redirects a directory's URL without its trailing slash
// to the URL with it (the query kept): 301 for GET and HEAD, 308 (which
// keeps the method and body) otherwise. The Location is built by
// [mount.Location], so it never names another host.
func RedirectSlash(w http.ResponseWriter, r *http.Request) {
	code := http.StatusMovedPermanently
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		code = http.StatusPermanentRedirect
	}
	loc := mount.Location(mount.ScriptName(r.Context()), r.URL.EscapedPath()+"/", r.URL.RawQuery)
	w.Header().Set("Location", loc)
	w.WriteHeader(code)
}

// Handler returns an http.Handler serving the tree below root. It is
// also a Directory, so it can sit in another Dir's Exports: there,
// the parent hands it the remaining components directly.
func Handler(root Directory) *Root { return &Root{dir: root} }

// Root is the http.Handler [Handler] returns.
type Root struct{ dir Directory }

// ServeHTTP redirects an unclean path ([mount.Canonical]), splits the
// path below the mount into components and traverses them from the
// root. A component that does not unescape is 400.
func (h *Root) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !mount.Canonical(w, r) {
		return
	}
	components, ok := Split(r.URL.EscapedPath())
	if !ok {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	h.dir.Traverse(w, r, components)
}

// Traverse hands components to the root.
func (h *Root) Traverse(w http.ResponseWriter, r *http.Request, components []string) {
	h.dir.Traverse(w, r, components)
}

// Split returns the unescaped components of an escaped path: "" (the
// root of a mount reached without its slash) has none, "/" is [""],
// "/a%2Fb/c/" is ["a/b", "c", ""]. ok is false when a component does
// not unescape.
func Split(escapedPath string) (components []string, ok bool) {
	p := strings.TrimPrefix(escapedPath, "/")
	if escapedPath == "" {
		return nil, true
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

// Mount returns a Directory that serves h below it as if h were
// mounted there: h sees the request with the path consumed so far moved
// to the script name ([mount.Shift]), so an http.FileServer, another
// framework's router or a gopaste app built by deploy serves the rest
// of the path as its own.
func Mount(h http.Handler) *Mounted { return &Mounted{h: h} }

// Mounted is the Directory [Mount] returns; it is also an http.Handler
// (serving as h would at the root of its mount).
type Mounted struct{ h http.Handler }

// Traverse serves the request to the mounted handler, with the path
// above components moved to the script name.
func (m *Mounted) Traverse(w http.ResponseWriter, r *http.Request, components []string) {
	if len(components) == 0 {
		RedirectSlash(w, r)
		return
	}
	rest := "/" + strings.Join(components, "/")
	prefix, ok := strings.CutSuffix(r.URL.Path, rest)
	if !ok {
		// The components were not split from this path (a parent's
		// Traverse made them up): serve the path as it is.
		m.h.ServeHTTP(w, r)
		return
	}
	m.h.ServeHTTP(w, mount.Shift(r, prefix))
}

// ServeHTTP serves h.
func (m *Mounted) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.h.ServeHTTP(w, r) }

var (
	_ Directory    = (*Dir)(nil)
	_ Directory    = (*Root)(nil)
	_ http.Handler = (*Root)(nil)
	_ Directory    = (*Mounted)(nil)
	_ http.Handler = (*Mounted)(nil)
)
