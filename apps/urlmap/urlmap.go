// Package urlmap is the urlmap composite (Paste's egg:Paste#urlmap): it
// dispatches a request to the app mounted at the longest matching path
// prefix, optionally per host, and moves the matched prefix from the path
// to SCRIPT_NAME as Paste does.
//
// It matches the clean path only: a request whose path is not clean
// ("//admin", "/./admin", "/x/../admin", their %2F and %2E forms) is
// redirected to the clean path first ([mount.Canonical]), so an app mounted
// behind an auth filter cannot be reached around it.
package urlmap

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/gopaste/gopaste/mount"
)

// Mount is one entry of the map.
type Mount struct {
	Host    string // "" matches any host; compared without port, case-insensitively
	Port    string // "" matches any port
	Prefix  string // "/blog"; "" or "/" is the root
	Name    string // the app's config name, for "gopaste route"
	Handler http.Handler
}

// Map dispatches by host and path prefix. It is safe for concurrent use
// once built.
type Map struct {
	mounts   []Mount
	NotFound http.Handler // nil means a plain 404
}

// New sorts the mounts: host-specific before any-host, then longest
// prefix first.
func New(mounts []Mount, notFound http.Handler) *Map {
	ms := make([]Mount, len(mounts))
	for i, m := range mounts {
		m.Prefix = strings.TrimSuffix(m.Prefix, "/")
		m.Host = strings.ToLower(m.Host)
		ms[i] = m
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if (ms[i].Host == "") != (ms[j].Host == "") {
			return ms[i].Host != ""
		}
		if (ms[i].Port == "") != (ms[j].Port == "") {
			return ms[i].Port != ""
		}
		return len(ms[i].Prefix) > len(ms[j].Prefix)
	})
	return &Map{mounts: ms, NotFound: notFound}
}

// Mounts returns the sorted mounts.
func (m *Map) Mounts() []Mount { return m.mounts }

// Match returns the mount serving r, or false. It matches r.URL.Path as
// it is; ServeHTTP first redirects a path that is not clean
// ([mount.Canonical]), so "//admin" or "/x/../admin" never reach a mount
// other than the one "/admin" reaches.
func (m *Map) Match(r *http.Request) (Mount, bool) {
	host, port := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		host, port = h, p
	}
	host = strings.ToLower(host)
	p := r.URL.Path
	for _, mt := range m.mounts {
		if mt.Host != "" && mt.Host != host {
			continue
		}
		if mt.Port != "" && mt.Port != port {
			continue
		}
		if mt.Prefix == "" || p == mt.Prefix || strings.HasPrefix(p, mt.Prefix+"/") {
			return mt, true
		}
	}
	return Mount{}, false
}

func (m *Map) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !mount.Canonical(w, r) {
		return
	}
	mt, ok := m.Match(r)
	if !ok {
		if m.NotFound != nil {
			m.NotFound.ServeHTTP(w, r)
			return
		}
		http.Error(w, "404 Not Found: no application is mounted at "+htmlSafe(mount.OriginalPath(r)), http.StatusNotFound)
		return
	}
	mt.Handler.ServeHTTP(w, mount.Shift(r, mt.Prefix))
}

func htmlSafe(s string) string {
	return strings.NewReplacer("<", "%3C", ">", "%3E", "\"", "%22", "'", "%27", "&", "%26").Replace(s)
}

// ParseKey reads a urlmap key the way Paste does: "/path", "domain HOST
// /path", "port N /path", or "http://host[:port]/path".
func ParseKey(key string) (Mount, error) {
	var m Mount
	if rest, ok := strings.CutPrefix(key, "http://"); ok {
		return parseURL(rest)
	}
	if rest, ok := strings.CutPrefix(key, "https://"); ok {
		return parseURL(rest)
	}
	words := strings.Fields(key)
	for len(words) > 0 {
		switch words[0] {
		case "domain", "port":
			if len(words) < 2 {
				return m, fmt.Errorf("%q: %s needs a value", key, words[0])
			}
			if words[0] == "domain" {
				m.Host = words[1]
			} else {
				m.Port = words[1]
			}
			words = words[2:]
			continue
		}
		if !strings.HasPrefix(words[0], "/") || len(words) > 1 {
			return m, fmt.Errorf("%q is not a path (/prefix), domain HOST /prefix, port N /prefix or http://host/prefix", key)
		}
		m.Prefix = words[0]
		words = words[1:]
	}
	if m.Prefix == "" {
		m.Prefix = "/"
	}
	return m, nil
}

func parseURL(rest string) (Mount, error) {
	var m Mount
	hostport, p, _ := strings.Cut(rest, "/")
	m.Prefix = "/" + p
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		m.Host, m.Port = h, port
	} else {
		m.Host = hostport
	}
	if m.Host == "" {
		return m, fmt.Errorf("%q has no host", rest)
	}
	return m, nil
}

// Route says which mounted app serves r and the request that app sees,
// for "gopaste route". name is the app's config name.
func (m *Map) Route(r *http.Request) (name string, r2 *http.Request, ok bool) {
	mt, ok := m.Match(r)
	if !ok {
		return "", nil, false
	}
	return mt.Name, mount.Shift(r, mt.Prefix), true
}
