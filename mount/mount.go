// Package mount carries the mount point of a request through its context:
// the SCRIPT_NAME a composite such as urlmap moved out of the path.
//
// As in Paste's urlmap, a request for /blog/2024/post routed to an app
// mounted at /blog reaches the app with r.URL.Path = "/2024/post" and
// ScriptName = "/blog". OriginalPath gives back the full path, for access
// logs and redirects.
//
// It also holds the one path check every part that matches on a path
// shares: [CleanPath] says what a clean path is, [Canonical] redirects a
// request whose path is not clean, and [Location] builds every redirect
// target from a path so that none points at another host.
package mount

import (
	"context"
	"net/http"
	"strings"
)

type scriptNameKey struct{}

type trackKey struct{}

// Tracker records the script name of the deepest mount a request
// reached: [Shift] sets it on every request whose context carries it
// ([Track]). The admin listener's stats count each request under its
// mount with it. Shift and the reader must be the same goroutine (the
// one serving the request), or be ordered by the handler's return.
type Tracker struct{ scriptName string }

// ScriptName returns the script name recorded, "" when no mount shifted
// the request.
func (t *Tracker) ScriptName() string { return t.scriptName }

// Track returns a context whose requests record in t where Shift mounts
// them.
func Track(ctx context.Context, t *Tracker) context.Context {
	return context.WithValue(ctx, trackKey{}, t)
}

// ScriptName returns the mount prefix of the request in ctx, "" at the root.
func ScriptName(ctx context.Context) string {
	s, _ := ctx.Value(scriptNameKey{}).(string)
	return s
}

// WithScriptName returns a context carrying script name s.
func WithScriptName(ctx context.Context, s string) context.Context {
	return context.WithValue(ctx, scriptNameKey{}, s)
}

// OriginalPath returns the request path as the client sent it, the mount
// prefix included.
func OriginalPath(r *http.Request) string {
	return ScriptName(r.Context()) + r.URL.Path
}

// Shift returns a shallow copy of r mounted one level deeper: prefix (which
// must be a path prefix of r.URL.Path, without a trailing slash) moves from
// the path to the script name. The original r is not changed.
func Shift(r *http.Request, prefix string) *http.Request {
	if prefix == "" || prefix == "/" {
		return r
	}
	prefix = strings.TrimSuffix(prefix, "/")
	sn := ScriptName(r.Context()) + prefix
	if t, ok := r.Context().Value(trackKey{}).(*Tracker); ok {
		t.scriptName = sn
	}
	ctx := WithScriptName(r.Context(), sn)
	r2 := r.WithContext(ctx)
	u := *r.URL
	u.Path = strings.TrimPrefix(r.URL.Path, prefix)
	if u.RawPath != "" {
		// Keep RawPath only when it still encodes Path.
		if rp, ok := strings.CutPrefix(u.RawPath, prefix); ok {
			u.RawPath = rp
		} else {
			u.RawPath = ""
		}
	}
	r2.URL = &u
	return r2
}
