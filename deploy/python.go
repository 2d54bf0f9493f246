package deploy

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

// Python parts: a PasteDeploy file served as it is.
//
// A part is Python when its use names something no Go factory provides:
// use = call:module:object, use = egg:Dist#name where Dist is not one
// whose parts gopaste registers (egg:myproject, egg:WebError#evalerror;
// egg:Paste#gzip is Go), or a section with a paste.app_factory (or
// paste.filter_factory, ...) key. Such a part is resolved like any other
// (check shows it and its keys) but not built in Go: the smallest
// subtree that must run in Python is handed whole to the wsgi app, which
// loads it with PasteDeploy from the same file, by section name:
//
//   - a Python app section: that section;
//   - a pipeline whose first filter is Python: the whole pipeline; one
//     whose first Python filter comes later: Go builds the filters before
//     it and hands the rest (a generated pipeline naming the original
//     sections) to Python; a pipeline whose filters are all Go and whose
//     app is Python: Go filters around the Python app;
//   - a filter-app, or an app with filter-with, whose filter is Python:
//     the whole section.
//
// Everything a Python filter wraps must be loadable by PasteDeploy too:
// Python parts, or Go parts named by an egg: reference (PasteDeploy loads
// Paste's own then); a gopaste-only part there is an error that says to
// move it outside. Composites gopaste provides (urlmap, cascade) stay in
// Go and each Python app under them is its own wsgi app.
//
// The wsgi app of a handed section gets: paste = config:FILE#NAME;
// pythonpath = the file's directory (so that an egg-info directory or
// package beside the file is found); virtualenv = $VIRTUAL_ENV when set;
// logging_config = the file, when it has Python logging sections
// ([loggers], [handlers], [formatters]); and the keys the server section
// gives Python (waitress's threads; gunicorn's workers, threads, timeout,
// max_requests, ...: see python_server.go).

// pythonFactoryKeys are PasteDeploy's keys that name a Python factory in
// a section without use.
var pythonFactoryKeys = []string{"paste.app_factory", "paste.composite_factory", "paste.filter_factory", "paste.filter_app_factory"}

// pythonFactoryKey returns the first PasteDeploy factory key in local,
// as "paste.app_factory = mod:fn", or "".
func pythonFactoryKey(local []registry.Entry) string {
	for _, e := range local {
		for _, k := range pythonFactoryKeys {
			if e.Key == k {
				return k + " = " + e.Value
			}
		}
	}
	return ""
}

// isPython reports whether use = name of type t names a part only
// Python has.
func (l *loader) isPython(t objType, name string) bool {
	if t == typeServer {
		return false
	}
	if _, ok := l.reg.Lookup(registry.App, "wsgi"); !ok {
		return false // nothing to hand it to: an unknown part
	}
	if strings.HasPrefix(name, "call:") {
		return true
	}
	rest, ok := strings.CutPrefix(name, "egg:")
	if !ok {
		return false
	}
	dist, entry, _ := strings.Cut(rest, "#")
	p, found := l.reg.Lookup(t.kind(), name)
	if !found {
		// A typo of a part gopaste provides (egg:Paste#urlmp) is an
		// unknown part with a did-you-mean, not a Python part.
		return !l.goDist(t, dist) || registry.Suggest(entry, l.reg.Names(t.kind())) == ""
	}
	for _, a := range p.Aliases {
		if a == name {
			return false
		}
	}
	// Found by its entry point name alone: Go's only when the
	// distribution is one gopaste provides parts of (egg:Paste#cgi is
	// Paste's; egg:myproject#static is the project's, not gopaste's
	// static).
	return !l.goDist(t, dist)
}

// goDist reports whether gopaste registers parts of type t under
// egg:dist#... aliases (Paste, Beaker, waitress, ...).
func (l *loader) goDist(t objType, dist string) bool {
	for _, k := range []registry.Kind{t.kind(), registry.Composite} {
		for _, p := range l.reg.Parts(k) {
			for _, a := range p.Aliases {
				if d, ok := strings.CutPrefix(a, "egg:"); ok && strings.SplitN(d, "#", 2)[0] == dist {
					return true
				}
			}
		}
	}
	return false
}

// getURI resolves a reference that PasteDeploy takes in place of a
// section name (in a pipeline, next or filter-with): egg:... or call:...,
// when no section has that name. It returns nil for anything else.
func (l *loader) getURI(t objType, name string, f *cfgFile, global []registry.Entry) *Node {
	if !strings.HasPrefix(name, "egg:") && !strings.HasPrefix(name, "call:") || l.hasSection(t, name, f) {
		return nil
	}
	g := mergeEntries(f.defaults, global)
	if l.isPython(t, name) {
		return &Node{Kind: t.String(), File: f.rel, Ref: name, Use: []string{name}, Global: g, pyLeaf: true}
	}
	p, ok := l.reg.Lookup(t.kind(), name)
	if !ok {
		return nil
	}
	return &Node{Kind: p.Kind.String(), File: f.rel, Ref: name, Use: []string{name}, Part: p.Name, part: p, Global: g}
}

// needsPython reports whether n is, or holds, a Python part.
func needsPython(n *Node) bool {
	if n.pyLeaf {
		return true
	}
	for _, c := range n.Children {
		if needsPython(c) {
			return true
		}
	}
	return false
}

// pythonFacing are the filters gopaste provides under an egg: name
// whose point is what they put in the WSGI environ for the app: in
// front of a Python app, Python must run them (Beaker's session is
// environ["beaker.session"], and its keys are Beaker's).
var pythonFacing = map[string]bool{"egg:Beaker#beaker_session": true}

// pythonFilter reports whether filter f, wrapping app, runs in Python:
// it holds a Python part, or it is Python-facing and app is Python.
func pythonFilter(f, app *Node) bool {
	if needsPython(f) {
		return true
	}
	return len(f.Use) > 0 && pythonFacing[f.Use[len(f.Use)-1]] && needsPython(app)
}

// notLoadable lists the parts of n PasteDeploy cannot load: Go parts not
// named by an egg: reference.
func notLoadable(n *Node) []*Node {
	if n.pyLeaf {
		return nil
	}
	if n.part != nil {
		if len(n.Use) > 0 && strings.HasPrefix(n.Use[len(n.Use)-1], "egg:") {
			return nil
		}
		return []*Node{n}
	}
	var out []*Node
	for _, c := range n.Children {
		out = append(out, notLoadable(c)...)
	}
	return out
}

// buildPython builds n when Python must serve it, or part of it; done
// is false when n is for Go alone.
func (l *loader) buildPython(n *Node) (h http.Handler, done bool, err error) {
	switch {
	case n.pyLeaf:
		h, err = l.handToPython(n, n)
		return h, true, err
	case (n.Kind == "filter-app" || n.Kind == "filter-with") && len(n.Children) == 2 && pythonFilter(n.Children[0], n.Children[1]):
		h, err = l.handToPython(n, n)
		return h, true, err
	case n.Kind == "pipeline" && len(n.Children) > 1:
		first := -1
		for i, c := range n.Children[:len(n.Children)-1] {
			if pythonFilter(c, n.Children[len(n.Children)-1]) {
				first = i
				break
			}
		}
		switch {
		case first < 0:
			return nil, false, nil
		case first == 0:
			h, err = l.handToPython(n, n)
			return h, true, err
		}
		var errs []error
		inner, err := l.handSuffix(n, first)
		errs = append(errs, err)
		filters := make([]func(http.Handler) http.Handler, first)
		for i := first - 1; i >= 0; i-- {
			filters[i], err = l.buildFilter(n.Children[i])
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return nil, true, err
		}
		h = inner
		for i := first - 1; i >= 0; i-- {
			h = filters[i](h)
		}
		n.handler = h
		return h, true, nil
	}
	return nil, false, nil
}

// checkLoadable records an error for each part of n that Python would
// have to load but cannot.
func (l *loader) checkLoadable(n, at *Node) error {
	var errs []error
	for _, c := range notLoadable(n) {
		what := c.Section
		if what == "" {
			what = c.Kind + " " + c.Ref
		} else {
			what = "[" + what + "]"
		}
		errs = append(errs, l.errorf(at.Origin, at.Section, "Python (PasteDeploy) serves this section, and it holds %s (%s %s), a gopaste part Python cannot load: keep gopaste parts outside the Python ones (before the first Python filter of a pipeline, or around the Python app)", what, c.Kind, c.Part))
	}
	return errors.Join(errs...)
}

// handToPython builds the wsgi app that serves section n (which holds
// Python parts) by loading it with PasteDeploy; at is where to report.
func (l *loader) handToPython(n, at *Node) (http.Handler, error) {
	if n.handler != nil {
		return n.handler, nil
	}
	if err := l.checkLoadable(n, at); err != nil {
		return nil, err
	}
	if n.Section == "" {
		return nil, l.errorf(at.Origin, at.Section, "%s %s is a Python part named only by reference; give it a section ([%s:NAME] with use = %s) so that PasteDeploy can load it by name", n.Kind, n.Ref, n.Kind, n.Ref)
	}
	_, name, _ := cut(n.Section)
	file := l.absFile(n.File)
	uri := "config:" + file + "#" + strings.TrimSpace(name)
	h, err := l.wsgiApp(n, uri, fmt.Sprintf("[%s] handed to Python", n.Section), l.files[file])
	if err == nil {
		n.handler = h
	}
	return h, err
}

// handSuffix builds the wsgi app for pipeline n's parts from index
// first on: PasteDeploy loads a pipeline generated in a temporary
// directory whose sections use the original ones.
func (l *loader) handSuffix(n *Node, first int) (http.Handler, error) {
	suffix := &Node{Kind: "pipeline", Section: n.Section, File: n.File, Origin: n.Origin, Global: n.Global, Children: n.Children[first:]}
	if err := l.checkLoadable(suffix, n); err != nil {
		return nil, err
	}
	file := l.absFile(n.File)
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by gopaste: the part of [%s] in %s that Python serves.\n", n.Section, file)
	var names []string
	var secs strings.Builder
	for i, c := range suffix.Children {
		prefix, name := "filter", fmt.Sprintf("f%d", i)
		if i == len(suffix.Children)-1 {
			prefix, name = "app", "app"
		}
		use := c.Ref
		if rest, ok := strings.CutPrefix(use, "config:"); ok {
			p, frag, _ := strings.Cut(rest, "#")
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(file), p)
			}
			use = "config:" + p
			if frag != "" {
				use += "#" + frag
			}
		} else if !strings.HasPrefix(use, "egg:") && !strings.HasPrefix(use, "call:") {
			use = "config:" + file + "#" + use
		}
		names = append(names, name)
		fmt.Fprintf(&secs, "\n[%s:%s]\nuse = %s\n", prefix, name, use)
	}
	fmt.Fprintf(&b, "\n[pipeline:main]\npipeline = %s\n%s", strings.Join(names, " "), secs.String())
	dir, err := os.MkdirTemp("", "gopaste-paste-")
	if err != nil {
		return nil, l.errorf(n.Origin, n.Section, "%v", err)
	}
	l.closers = append(l.closers, removeAll(dir))
	gen := filepath.Join(dir, "pipeline.ini")
	if err := os.WriteFile(gen, []byte(b.String()), 0o644); err != nil {
		return nil, l.errorf(n.Origin, n.Section, "%v", err)
	}
	holder := suffix.Children[0]
	return l.wsgiApp(holder, "config:"+gen+"#main", fmt.Sprintf("[%s] from %s on, handed to Python", n.Section, holderName(holder)), l.files[file])
}

func holderName(n *Node) string {
	if n.Section != "" {
		return n.Section
	}
	return n.Ref
}

type removeAll string

func (d removeAll) Close() error { return os.RemoveAll(string(d)) }

// wsgiApp builds the wsgi app that loads uri with PasteDeploy, records
// it as n.Python (what check prints) and returns its handler.
func (l *loader) wsgiApp(n *Node, uri, why string, f *cfgFile) (http.Handler, error) {
	p, ok := l.reg.Lookup(registry.App, "wsgi")
	if !ok {
		return nil, l.errorf(n.Origin, holderName(n), "%s is a Python part (use = %s), which gopaste hands to its wsgi app, and this binary has no wsgi app", n.Kind, strings.Join(n.Use, " -> "))
	}
	local := []registry.Entry{{Key: "paste", Value: uri, Origin: why}}
	local = append(local, l.pythonKeys(f)...)
	wn := &Node{Kind: "app", Part: p.Name, part: p, Section: n.Section, File: n.File, Origin: n.Origin,
		Ref: n.Ref, Global: n.Global, Local: local, Role: "python"}
	if wn.Section == "" {
		wn.Section = "app:" + n.Ref
	}
	n.Python = wn
	l.pyBuilt = true
	return l.build(wn)
}

// pythonKeys are the wsgi keys every handed section gets: where Python
// finds the project, the logging config, and what the server section
// says about Python's workers.
func (l *loader) pythonKeys(f *cfgFile) []registry.Entry {
	var es []registry.Entry
	srv := l.pythonServerKeys()
	if f != nil && indexOf(srv, "pythonpath") < 0 {
		es = append(es, registry.Entry{Key: "pythonpath", Value: filepath.Dir(f.path), Origin: "default: the directory of " + f.rel})
	}
	if v := os.Getenv("VIRTUAL_ENV"); v != "" {
		es = append(es, registry.Entry{Key: "virtualenv", Value: v, Origin: "$VIRTUAL_ENV"})
	}
	for _, lf := range []*cfgFile{f, l.top} {
		if lf == nil {
			continue
		}
		if sec, ok := lf.ini.Section("loggers"); ok {
			es = append(es, registry.Entry{Key: "logging_config", Value: lf.path,
				Origin: fmt.Sprintf("[loggers] at %s:%d", lf.rel, sec.Line)})
			break
		}
	}
	return append(es, srv...)
}

// isLoggingSection reports whether a section is Python's logging config
// (logging.config.fileConfig's format), which the wsgi app hands to its
// workers.
func isLoggingSection(name string) bool {
	switch name {
	case "loggers", "handlers", "formatters":
		return true
	}
	for _, p := range []string{"logger_", "handler_", "formatter_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// pythonLogLevel maps the level of [logger_root] in f to gopaste's log
// level, "" when there is none.
func pythonLogLevel(f *cfgFile) string {
	sec, ok := f.ini.Section("logger_root")
	if !ok {
		return ""
	}
	k, ok := sec.Get("level")
	if !ok {
		return ""
	}
	switch strings.ToUpper(strings.TrimSpace(k.Raw)) {
	case "DEBUG":
		return "debug"
	case "INFO":
		return "info"
	case "WARN", "WARNING":
		return "warn"
	case "ERROR", "CRITICAL", "FATAL":
		return "error"
	}
	return ""
}
