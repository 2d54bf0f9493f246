package deploy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"

	"github.com/gopaste/gopaste/registry"
)

// App is a built application tree: its handler, the resolved tree, the
// warnings the loader gave, and the resources to close when it is
// discarded. Close it when done.
type App struct {
	Handler  http.Handler
	Tree     *Node
	Warnings []Warning
	// Files lists the config files read and the files parts declared
	// (htpasswd, certificates): what --reload watches.
	Files []string

	closeOnce sync.Once
	closeErr  error
	l         *loader
}

// Close releases the parts' resources in reverse order of creation.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		if a.l != nil {
			a.closeErr = a.l.closeAll()
		}
	})
	return a.closeErr
}

// Error is every error a load found, at once.
type Error struct {
	Errs []error
}

func (e *Error) Error() string { return errors.Join(e.Errs...).Error() }

// Unwrap returns the individual errors.
func (e *Error) Unwrap() []error { return e.Errs }

func (l *loader) failure(fallback error) error {
	if len(l.errs) == 0 {
		if fallback == nil {
			return nil
		}
		return &Error{Errs: []error{fallback}}
	}
	return &Error{Errs: dedupe(l.errs)}
}

func dedupe(errs []error) []error {
	seen := map[string]bool{}
	var out []error
	for _, e := range errs {
		if e == nil || seen[e.Error()] {
			continue
		}
		seen[e.Error()] = true
		out = append(out, e)
	}
	return out
}

// loadOne resolves the section name (default "main") of type t in the
// file at path and builds it with build. On error everything built is
// closed and every error the loader met is returned at once.
func loadOne(path, name string, t objType, o Options, build func(*loader, *Node) error) (*loader, *Node, error) {
	if name == "" {
		name = "main"
	}
	l := newLoader(o)
	f, err := l.open(path, globalEntries(o.Global))
	if err != nil {
		return nil, nil, &Error{Errs: []error{err}}
	}
	n, err := l.get(t, name, f, globalEntries(o.Global))
	if n != nil && len(l.errs) == 0 {
		err = build(l, n)
	}
	if len(l.errs) > 0 || err != nil {
		l.closeAll()
		return nil, nil, l.failure(err)
	}
	for _, w := range l.warnings {
		l.logger.Warn("config", "warning", w.String())
	}
	return l, n, nil
}

// BuildApp loads the ini file at path and builds the app called name
// ("main" when empty). On error nothing is left open.
func BuildApp(path, name string, o Options) (*App, error) {
	var h http.Handler
	l, n, err := loadOne(path, name, typeApp, o, func(l *loader, n *Node) (err error) {
		h, err = l.build(n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &App{Handler: h, Tree: n, Warnings: l.warnings, Files: l.watched, l: l}, nil
}

// LoadApp builds app name from the ini file at path; close the returned
// closer when done. It is BuildApp with default options.
func LoadApp(path, name string) (http.Handler, io.Closer, error) {
	a, err := BuildApp(path, name, Options{})
	if err != nil {
		return nil, nil, err
	}
	return a.Handler, a, nil
}

// ServerSpec is a built server section.
type ServerSpec struct {
	Server registry.Server
	Tree   *Node
}

// BuildServer loads path and builds the server called name ("main" when
// empty).
func BuildServer(path, name string, o Options) (*ServerSpec, error) {
	var srv registry.Server
	_, n, err := loadOne(path, name, typeServer, o, func(l *loader, n *Node) (err error) {
		srv, err = l.buildServer(n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ServerSpec{Server: srv, Tree: n}, nil
}

// HasServer reports whether the file at path has a server section named
// name.
func HasServer(path, name string, o Options) (bool, error) {
	l := newLoader(o)
	f, err := l.open(path, nil)
	if err != nil {
		return false, err
	}
	return l.hasSection(typeServer, name, f), nil
}

// DefaultServer builds the "http" server with its defaults
// (127.0.0.1:8080), for configs that have no server section.
func DefaultServer(o Options) (*ServerSpec, error) {
	l := newLoader(o)
	p, ok := l.reg.Lookup(registry.ServerKind, "http")
	if !ok {
		return nil, fmt.Errorf("deploy: no http server is registered")
	}
	n := &Node{Kind: "server", Section: "server:main", Origin: "(default)", Part: p.Name, part: p, Global: globalEntries(o.Global)}
	s, err := l.buildServer(n)
	if err != nil {
		return nil, err
	}
	return &ServerSpec{Server: s, Tree: n}, nil
}

func globalEntries(m map[string]string) []registry.Entry {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var es []registry.Entry
	for _, k := range keys {
		es = append(es, registry.Entry{Key: k, Value: m[k], Origin: "(command line)"})
	}
	return es
}

// Report is what "gopaste check" shows: every top-level section resolved
// and built, the trees, the warnings, and every error.
type Report struct {
	Trees    []*Node
	Warnings []Warning
	Errs     []error
}

// Check loads path and resolves and builds every app-like section and
// every server section in it, without serving. Parts are closed before it
// returns.
func Check(path string, o Options) (*Report, error) {
	l := newLoader(o)
	f, err := l.open(path, globalEntries(o.Global))
	if err != nil {
		return nil, err
	}
	defer l.closeAll()
	rep := &Report{}
	seen := map[string]bool{}
	reached := map[string]bool{}
	for _, sec := range f.ini.Sections {
		prefix, name, _ := cut(sec.Name)
		var t objType
		switch prefix {
		case "app", "application", "composite", "composit", "pipeline", "filter-app":
			t = typeApp
		case "server":
			t = typeServer
		case "filter":
			t = typeFilter
		default:
			l.warn(Warning{Origin: fmt.Sprintf("%s:%d", f.rel, sec.Line), Section: sec.Name, Msg: "section is not one PasteDeploy knows (app, filter, filter-app, pipeline, composite, server); it is ignored"})
			continue
		}
		if seen[sec.Name] || reached[f.rel+"#"+sec.Name] {
			continue
		}
		seen[sec.Name] = true
		n, err := l.fromSection(t, sec, f, globalEntries(o.Global))
		if n == nil || err != nil {
			continue
		}
		n.Ref = name
		switch t {
		case typeApp:
			l.build(n)
		case typeServer:
			l.buildServer(n)
		case typeFilter:
			l.buildFilter(n)
		}
		rep.Trees = append(rep.Trees, n)
		markReached(n, reached)
	}
	rep.Warnings = l.warnings
	rep.Errs = dedupe(l.errs)
	return rep, nil
}

func cut(section string) (prefix, name string, ok bool) {
	for i := 0; i < len(section); i++ {
		if section[i] == ':' {
			return section[:i], section[i+1:], true
		}
	}
	return section, "main", false
}

func markReached(n *Node, m map[string]bool) {
	if n.Section != "" {
		m[n.File+"#"+n.Section] = true
	}
	for _, c := range n.Children {
		markReached(c, m)
	}
}
