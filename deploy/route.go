package deploy

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/mount"
)

// Router is implemented by composites that can say, without serving it,
// which of their apps a request goes to (urlmap does). name is the config
// name the composite loaded that app by.
type Router interface {
	Route(r *http.Request) (name string, r2 *http.Request, ok bool)
}

// Route writes which sections a request r goes through in a's tree: the
// filters in order, the composite branches taken and the app, with the
// SCRIPT_NAME and PATH_INFO the app sees. Nothing is served.
func (a *App) Route(w io.Writer, r *http.Request) {
	fmt.Fprintf(w, "%s %s\n", r.Method, r.URL.RequestURI())
	route(w, a.Tree, r, 1)
}

func route(w io.Writer, n *Node, r *http.Request, depth int) {
	ind := strings.Repeat("  ", depth)
	label := n.Section
	if label == "" {
		label = n.Ref
	}
	what := n.Kind
	if n.Part != "" {
		what += " " + n.Part
	}
	switch n.Kind {
	case "pipeline":
		fmt.Fprintf(w, "%s[%s] pipeline\n", ind, label)
		for _, c := range n.Children {
			route(w, c, r, depth+1)
		}
	case "filter-app", "filter-with":
		fmt.Fprintf(w, "%s[%s] %s\n", ind, label, n.Kind)
		for _, c := range n.Children {
			route(w, c, r, depth+1)
		}
	case "filter", "filter-with-filter":
		fmt.Fprintf(w, "%sfilter [%s] %s\n", ind, label, what)
		if n.Kind == "filter-with-filter" {
			for _, c := range n.Children {
				route(w, c, r, depth+1)
			}
		}
	case "composite":
		fmt.Fprintf(w, "%s[%s] %s\n", ind, label, what)
		if c := mount.CleanPath(r.URL.Path); c != r.URL.Path {
			fmt.Fprintf(w, "%s  path is not clean: redirect to %s\n", ind, c)
			return
		}
		if rt, ok := n.handler.(Router); ok {
			name, r2, ok := rt.Route(r)
			if !ok {
				fmt.Fprintf(w, "%s  no match: 404 (or its not_found_app)\n", ind)
				return
			}
			for _, c := range n.Children {
				if c.Ref == name {
					if sn := mount.ScriptName(r2.Context()); sn != mount.ScriptName(r.Context()) {
						fmt.Fprintf(w, "%s  mount %s -> %s\n", ind, sn, name)
					}
					route(w, c, r2, depth+1)
					return
				}
			}
			fmt.Fprintf(w, "%s  -> %s\n", ind, name)
			return
		}
		fmt.Fprintf(w, "%s  tries in order (falls through on a caught status):\n", ind)
		for _, c := range n.Children {
			route(w, c, r, depth+2)
		}
	default:
		fmt.Fprintf(w, "%s[%s] %s\n", ind, label, what)
		fmt.Fprintf(w, "%s  SCRIPT_NAME=%q PATH_INFO=%q\n", ind, mount.ScriptName(r.Context()), r.URL.Path)
	}
}
