package deploy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"

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

	g *Generation
}

// Close releases the parts' resources in reverse order of creation.
func (a *App) Close() error { return a.g.Close() }

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

// BuildApp loads the ini file at path and builds the app called name
// ("main" when empty), for running requests through it without a server
// ("gopaste request", tests). It logs the warnings. On error nothing is
// left open and the error holds every error of the file, as [Load]'s does.
func BuildApp(path, name string, o Options) (*App, error) {
	g, err := load(path, name, "", false, o)
	if err != nil {
		return nil, err
	}
	for _, w := range g.Warnings {
		g.l.logger.Warn("config", "warning", w.String())
	}
	return &App{Handler: g.Handler, Tree: g.App, Warnings: g.Warnings, Files: g.Files, g: g}, nil
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
// every server section in it, without serving. Parts are built with
// registry.Config.CheckOnly set, so that they start nothing, and closed
// before it returns.
func Check(path string, o Options) (*Report, error) {
	l := newLoader(o)
	l.checkOnly = true // the parts start nothing (registry.Config.CheckOnly)
	f, err := l.open(path, globalEntries(o.Global))
	if err != nil {
		return nil, err
	}
	defer l.closeAll()
	l.top = f
	rep := &Report{Trees: l.buildAll(f, map[string]bool{})}
	l.warnPythonKeysUnused()
	l.warnExposed()
	rep.Warnings = l.warnings
	rep.Errs = dedupe(l.errs)
	return rep, nil
}

// sectionType is the type of a top-level section by its prefix; ok is
// false for a section PasteDeploy ignores.
func sectionType(name string) (t objType, ok bool) {
	prefix, _, _ := cut(name)
	switch prefix {
	case "app", "application", "composite", "composit", "pipeline", "filter-app":
		return typeApp, true
	case "server":
		return typeServer, true
	case "filter":
		return typeFilter, true
	}
	return 0, false
}

// sectionPrefixes are the prefixes PasteDeploy knows, for the near-miss
// check; "composit", an alias PasteDeploy also takes, is never a
// suggestion.
var sectionPrefixes = []string{"app", "application", "composite", "pipeline", "filter-app", "filter", "server"}

// otherSections are sections of tools that share PasteDeploy's files and
// are close enough to a section type to look like typos: Pyramid's
// [pserve] is two edits from "server".
var otherSections = map[string]bool{"pserve": true}

// warnIgnored, run on every file read, warns about the sections of f
// that PasteDeploy ignores, and records an error for those whose header
// is a near miss of a section type ([sever:main], [filtr:gzip],
// [App:main]): a typo there would otherwise leave the part out without
// a word. A header without a colon ([servr]) is checked against the
// longer prefixes only, so that short unrelated sections ([api], [db])
// stay ignored.
func (l *loader) warnIgnored(f *cfgFile) {
	for _, sec := range f.ini.Sections {
		if _, ok := sectionType(sec.Name); ok || isLoggingSection(sec.Name) {
			continue
		}
		origin := fmt.Sprintf("%s:%d", f.rel, sec.Line)
		prefix, name, colon := cut(sec.Name)
		candidates := sectionPrefixes
		if !colon {
			candidates = candidates[1:]
		}
		if p := registry.Suggest(prefix, candidates); p != "" && !otherSections[prefix] {
			header := p
			if colon {
				header += ":" + name
			}
			l.errorf(origin, sec.Name, "unknown section type %q, so PasteDeploy would ignore this section; did you mean [%s]?", prefix, header)
			continue
		}
		l.warn(Warning{Origin: origin, Section: sec.Name, Msg: "section is not one PasteDeploy knows (app, filter, filter-app, pipeline, composite, server); it is ignored"})
	}
}

// buildAll resolves and builds every top-level section of f that is not
// in reached (file#section keys), recording their errors, and returns
// their trees.
func (l *loader) buildAll(f *cfgFile, reached map[string]bool) []*Node {
	var trees []*Node
	seen := map[string]bool{}
	for i, sec := range f.ini.Sections {
		t, ok := sectionType(sec.Name)
		if !ok || seen[sec.Name] || reached[f.rel+"#"+sec.Name] {
			continue
		}
		seen[sec.Name] = true
		l.track(i, func() {
			n, err := l.fromSection(t, sec, f, globalEntries(l.opts.Global))
			if n == nil || err != nil {
				return
			}
			_, n.Ref, _ = cut(sec.Name)
			switch t {
			case typeApp:
				l.build(n)
			case typeServer:
				l.buildServer(n)
			case typeFilter:
				if !n.pyLeaf { // PasteDeploy builds it with the app it wraps
					l.buildFilter(n)
				}
			}
			trees = append(trees, n)
			markReached(n, reached)
		})
	}
	return trees
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
