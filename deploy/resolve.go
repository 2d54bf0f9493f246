package deploy

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopaste/gopaste/deploy/ini"
	"github.com/gopaste/gopaste/registry"
)

// objType is what a lookup asks for, as PasteDeploy's object types.
type objType int

const (
	typeApp objType = iota + 1
	typeFilter
	typeServer
)

func (t objType) String() string {
	switch t {
	case typeApp:
		return "app"
	case typeFilter:
		return "filter"
	case typeServer:
		return "server"
	}
	return "?"
}

// kind is the registry kind a "use" of type t names.
func (t objType) kind() registry.Kind {
	switch t {
	case typeFilter:
		return registry.Filter
	case typeServer:
		return registry.ServerKind
	}
	return registry.App
}

// prefixes lists the section prefixes searched for each type; within a
// group the first alias that matches wins, as in PasteDeploy.
func (t objType) prefixes() [][]string {
	switch t {
	case typeApp:
		return [][]string{{"app", "application"}, {"composite", "composit"}, {"pipeline"}, {"filter-app"}}
	case typeFilter:
		return [][]string{{"filter"}}
	case typeServer:
		return [][]string{{"server"}}
	}
	return nil
}

// Node is one resolved part: a section, what it uses, its config, and the
// parts it is made of. The tree of Nodes is what "gopaste check" prints.
type Node struct {
	// Kind is "app", "composite", "filter", "server", "pipeline",
	// "filter-app" or "filter-with".
	Kind    string
	Section string // "app:main"; "" for a part reached only through use
	File    string
	Origin  string   // "site.ini:12", where the section starts
	Ref     string   // the name this node was asked for by ("main", "config:x.ini#blog")
	Use     []string // the use chain, outermost first
	Part    string   // the registered part's name, for leaves
	Global  []registry.Entry
	Local   []registry.Entry
	// Children: for a pipeline its filters then its app; for filter-app
	// and filter-with the filter then next; for a composite the apps it
	// loaded, in order.
	Children []*Node
	Role     string // how the parent uses this node: "filter", "next", "app"
	// Python is the wsgi app that serves this section in Python, where
	// PasteDeploy loads it (see python.go); nil when Go serves it.
	Python *Node

	pyLeaf  bool // a part only Python has (egg: not registered in Go, call:, paste.*_factory)
	part    *registry.Part
	handler http.Handler
	filter  func(http.Handler) http.Handler
	server  registry.Server
	log     LogConfig                       // a server's log keys
	wrap    func(http.Handler) http.Handler // a server's keys applied around the app (waitress's url_scheme, ...)
	watched []string
}

// Warning is a problem that does not stop a build.
type Warning struct {
	Origin  string
	Section string
	Key     string
	Msg     string
}

func (w Warning) String() string {
	if w.Key != "" {
		return fmt.Sprintf("%s: [%s]: key %q: %s", w.Origin, w.Section, w.Key, w.Msg)
	}
	return fmt.Sprintf("%s: [%s]: %s", w.Origin, w.Section, w.Msg)
}

// Options configure loading.
type Options struct {
	Registry *registry.Registry // nil means registry.Default
	Logger   *slog.Logger       // nil means slog.Default()
	// ReadFile reads a config file; nil means os.ReadFile. The built-in
	// demo serves a config embedded in the binary through it.
	ReadFile func(path string) ([]byte, error)
	// Global adds to the global config, as paster serve's "var=value"
	// arguments do; a file's own [DEFAULT] keys take precedence in its
	// interpolation.
	Global map[string]string
	// ServerKeys override the keys of the server section [Load] builds,
	// as "gopaste serve --host H --port N" does; each Entry's Origin
	// names where it came from ("--port").
	ServerKeys []registry.Entry
	// Pool keeps the values parts share across loads (registry.Shared):
	// "gopaste serve" makes one and passes it to every generation, so
	// memory sessions, caches and counters outlive a reload. nil means a
	// shared value lives as long as one load.
	Pool *registry.Pool
	// Stdout is given to every part as registry.Config.Stdout: where the
	// console server writes its response. nil means os.Stdout.
	Stdout io.Writer
	// CheckOnly builds every part with registry.Config.CheckOnly, as
	// [Check] does: they start nothing (a prefork master's config).
	CheckOnly bool
	// AppCheckOnly, when set, is asked by [Load] once the server is
	// built whether the app is to be built check-only, as a prefork
	// master's is (it serves nothing itself, so its process and wsgi
	// apps must start no workers): the file is then read and built once
	// whatever the answer. The server itself is built with CheckOnly.
	AppCheckOnly func(registry.Server) bool
}

// cfgFile is one parsed ini file.
type cfgFile struct {
	path     string // absolute
	rel      string // as shown in messages
	ini      *ini.File
	defaults []registry.Entry // here, __file__, added globals, [DEFAULT] keys: interpolated
	rawDef   map[string]string
}

// loader resolves and builds one tree; it is used once.
type loader struct {
	reg      *registry.Registry
	logger   *slog.Logger
	files    map[string]*cfgFile
	shown    map[string]string // absolute path -> as messages show it, for included files
	stack    []string
	errs     []error
	warnings []Warning
	warned   map[string]bool
	closers  []interface{ Close() error }
	watched  []string
	starts   []partStart  // what the parts start once the tree built
	segs     []errSegment // which top-level build recorded which errors
	opts     Options
	// checkOnly builds parts that start nothing (Check).
	checkOnly bool

	// Warnings that matter on an exposed server wait for one
	// (registry.Config.WarnExposedf).
	exposedWarnings []Warning
	exposed         bool

	// Python parts (python.go): the file loaded first, the server
	// section served, and whether a section was handed to Python.
	top       *cfgFile
	srvName   string
	pySrv     *Node
	pySrvDone bool
	pyBuilt   bool
}

func newLoader(o Options) *loader {
	if o.Registry == nil {
		o.Registry = registry.Default
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &loader{reg: o.Registry, logger: o.Logger, files: map[string]*cfgFile{}, shown: map[string]string{}, warned: map[string]bool{}, opts: o, checkOnly: o.CheckOnly}
}

func (l *loader) errorf(origin, section, format string, args ...any) error {
	err := fmt.Errorf("%s: [%s]: %s", origin, section, fmt.Sprintf(format, args...))
	l.addErr(err)
	return err
}

func (l *loader) warn(w Warning) {
	k := w.String()
	if l.warned[k] {
		return
	}
	l.warned[k] = true
	l.warnings = append(l.warnings, w)
}

// open parses path (once per loader); extra are the includer's globals,
// added to the file's defaults without overriding them.
func (l *loader) open(path string, extra []registry.Entry) (*cfgFile, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if f, ok := l.files[abs]; ok {
		return f, nil
	}
	read := l.opts.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	data, err := read(abs)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	rel := path
	if r, ok := l.shown[abs]; ok {
		rel = r
	}
	parsed, err := ini.Parse(rel, strings.NewReader(string(data)))
	if err != nil {
		return nil, err
	}
	f := &cfgFile{path: abs, rel: rel, ini: parsed, rawDef: map[string]string{}}
	l.watched = append(l.watched, abs)
	// Defaults as PasteDeploy's loader sets them: here and __file__, then
	// the includer's globals where the file does not set them, then
	// [DEFAULT].
	base := []registry.Entry{
		{Key: "here", Value: filepath.Dir(abs), Origin: "directory of " + rel},
		{Key: "__file__", Value: abs, Origin: "path of " + rel},
	}
	for _, e := range base {
		f.rawDef[e.Key] = escapePercent(e.Value)
	}
	for _, e := range extra {
		if _, ok := parsed.Default.Get(e.Key); ok {
			continue
		}
		if e.Key == "here" || e.Key == "__file__" {
			continue
		}
		f.rawDef[e.Key] = escapePercent(e.Value)
		base = append(base, e)
	}
	for _, k := range parsed.Default.Keys {
		f.rawDef[k.Name] = k.Raw
	}
	f.defaults = base
	for _, k := range parsed.Default.Keys {
		v, err := ini.Interpolate(k.Raw, lookupIn(nil, f.rawDef))
		if err != nil {
			l.errorf(fmt.Sprintf("%s:%d", rel, k.Line), "DEFAULT", "key %q: %v", k.Name, err)
			continue
		}
		f.defaults = setEntry(f.defaults, registry.Entry{Key: k.Name, Value: v, Origin: fmt.Sprintf("[DEFAULT] %s:%d", rel, k.Line)})
	}
	l.files[abs] = f
	l.warnIgnored(f)
	return f, nil
}

func escapePercent(s string) string { return strings.ReplaceAll(s, "%", "%%") }

func lookupIn(sec *ini.Section, def map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if sec != nil {
			if k, ok := sec.Get(name); ok {
				return k.Raw, true
			}
		}
		v, ok := def[name]
		return v, ok
	}
}

func setEntry(es []registry.Entry, e registry.Entry) []registry.Entry {
	for i := range es {
		if es[i].Key == e.Key {
			out := append([]registry.Entry(nil), es...)
			out[i] = e
			return out
		}
	}
	return append(append([]registry.Entry(nil), es...), e)
}

func mergeEntries(base, over []registry.Entry) []registry.Entry {
	out := append([]registry.Entry(nil), base...)
	for _, e := range over {
		out = setEntry(out, e)
	}
	return out
}

// findSection is PasteDeploy's find_config_section.
func (l *loader) findSection(t objType, name string, f *cfgFile) (*ini.Section, error) {
	var found []*ini.Section
	for _, group := range t.prefixes() {
		for _, prefix := range group {
			var hits []*ini.Section
			for _, s := range f.ini.Sections {
				if name == "main" && s.Name == prefix {
					hits = append(hits, s)
					continue
				}
				if rest, ok := strings.CutPrefix(s.Name, prefix+":"); ok && strings.TrimSpace(rest) == name {
					hits = append(hits, s)
				}
			}
			if len(hits) > 0 {
				found = append(found, hits...)
				break
			}
		}
	}
	switch {
	case len(found) == 0:
		return nil, l.missingSection(t, name, f)
	case len(found) > 1:
		var names []string
		for _, s := range found {
			names = append(names, fmt.Sprintf("[%s] (line %d)", s.Name, s.Line))
		}
		return nil, fmt.Errorf("ambiguous name %q in %s: %s", name, f.rel, strings.Join(names, ", "))
	}
	return found[0], nil
}

// missingSection is the error for a name no section of type t in f has:
// the headers PasteDeploy would have taken (its documented ones; the
// "composit" alias it also takes looks like a typo and is left out), and
// a hint: the closest section of that type, or the registered part of
// that name a section could use.
func (l *loader) missingSection(t objType, name string, f *cfgFile) error {
	var tried []string
	for _, group := range t.prefixes() {
		for _, prefix := range group {
			if prefix != "composit" {
				tried = append(tried, "["+prefix+":"+name+"]")
			}
		}
	}
	byName := map[string]string{} // section name -> its header
	var names []string
	for _, s := range f.ini.Sections {
		if st, ok := sectionType(s.Name); ok && st == t {
			_, n, _ := cut(s.Name)
			n = strings.TrimSpace(n)
			if _, dup := byName[n]; !dup {
				byName[n] = s.Name
				names = append(names, n)
			}
		}
	}
	hint := ""
	if s := registry.Suggest(name, names); s != "" {
		hint = fmt.Sprintf("; did you mean [%s]?", byName[s])
	} else if p, ok := l.reg.Lookup(t.kind(), name); ok {
		hint = fmt.Sprintf("; %q is a registered %s: name a section that uses it, such as [%s:%s] with use = %s", name, p.Kind, p.Kind, name, name)
	}
	return fmt.Errorf("no %s section %q in %s: looked for %s%s", t, name, f.rel, strings.Join(tried, ", "), hint)
}

func (l *loader) hasSection(t objType, name string, f *cfgFile) bool {
	_, err := l.findSection(t, name, f)
	return err == nil
}

// keyRef is the key that named a section, for errors about the name:
// "site.ini:3: [pipeline:main]: key "pipeline": no filter section ...".
// The zero keyRef is a name that no key gave (the app serve builds).
type keyRef struct{ origin, section, key string }

func (r keyRef) wrap(err error) error {
	if r.key == "" {
		return err
	}
	return fmt.Errorf("%s: [%s]: key %q: %w", r.origin, r.section, r.key, err)
}

// refTo is the keyRef of local entry e of section sec.
func refTo(sec *ini.Section, e registry.Entry) keyRef { return keyRef{e.Origin, sec.Name, e.Key} }

// get resolves name (a section of f or a config: URI) as type t; ref is
// the key that named it.
func (l *loader) get(t objType, name string, f *cfgFile, global []registry.Entry, ref keyRef) (*Node, error) {
	if strings.HasPrefix(name, "config:") {
		return l.getConfigURI(t, name, f, global, ref)
	}
	if n := l.getURI(t, name, f, global); n != nil {
		return n, nil
	}
	sec, err := l.findSection(t, name, f)
	if err != nil {
		err = ref.wrap(err)
		l.addErr(err)
		return nil, err
	}
	n, err := l.fromSection(t, sec, f, global)
	if n != nil {
		n.Ref = name
	}
	return n, err
}

func (l *loader) getConfigURI(t objType, uri string, f *cfgFile, global []registry.Entry, ref keyRef) (*Node, error) {
	rest := strings.TrimPrefix(uri, "config:")
	path, name, _ := strings.Cut(rest, "#")
	if name == "" {
		name = "main"
	}
	if !filepath.IsAbs(path) {
		// Shown relative to where the includer is shown from, as the
		// user would write it.
		rel := filepath.Join(filepath.Dir(f.rel), path)
		path = filepath.Join(filepath.Dir(f.path), path)
		if _, seen := l.files[path]; !seen {
			l.shown[path] = rel
		}
	}
	inc, err := l.open(path, global)
	if err != nil {
		err = ref.wrap(err)
		l.addErr(err)
		return nil, err
	}
	n, err := l.get(t, name, inc, global, ref)
	if n != nil {
		n.Ref = uri
	}
	return n, err
}

// fromSection is PasteDeploy's get_context once the section is known.
func (l *loader) fromSection(t objType, sec *ini.Section, f *cfgFile, global []registry.Entry) (*Node, error) {
	id := f.path + "#" + sec.Name
	for i, s := range l.stack {
		if s == id {
			chain := append(append([]string(nil), l.stack[i:]...), id)
			for j := range chain {
				chain[j] = filepath.Base(strings.Split(chain[j], "#")[0]) + "[" + strings.SplitN(chain[j], "#", 2)[1] + "]"
			}
			return nil, l.errorf(fmt.Sprintf("%s:%d", f.rel, sec.Line), sec.Name, "include cycle: %s", strings.Join(chain, " -> "))
		}
	}
	l.stack = append(l.stack, id)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()

	origin := fmt.Sprintf("%s:%d", f.rel, sec.Line)
	// The global config: this file's defaults overridden by what the
	// caller passes down (which includes "set" additions above us).
	g := mergeEntries(f.defaults, global)
	var additions, local []registry.Entry
	type getKey struct {
		local, global string
		line          int
	}
	var gets []getKey
	var failed bool
	for _, k := range sec.Keys {
		v, err := ini.Interpolate(k.Raw, lookupIn(sec, f.rawDef))
		where := fmt.Sprintf("%s:%d", f.rel, k.Line)
		if err != nil {
			l.errorf(where, sec.Name, "key %q: %v", k.Name, err)
			failed = true
			continue
		}
		switch {
		case strings.HasPrefix(k.Name, "set "):
			name := strings.TrimSpace(k.Name[4:])
			e := registry.Entry{Key: name, Value: v, Origin: "set at " + where}
			additions = setEntry(additions, e)
			g = setEntry(g, e)
		case strings.HasPrefix(k.Name, "get "):
			gets = append(gets, getKey{strings.TrimSpace(k.Name[4:]), strings.TrimSpace(v), k.Line})
		default:
			if _, ok := f.rawDef[k.Name]; ok {
				l.warn(Warning{Origin: where, Section: sec.Name, Key: k.Name,
					Msg: fmt.Sprintf("also set in [DEFAULT] (or built in), so PasteDeploy ignores this local value; use \"set %s = ...\" to override the global", k.Name)})
				continue
			}
			local = setEntry(local, registry.Entry{Key: k.Name, Value: v, Origin: where})
		}
	}
	for _, gk := range gets {
		where := fmt.Sprintf("%s:%d", f.rel, gk.line)
		var val *registry.Entry
		for i := range g {
			if g[i].Key == gk.global {
				val = &g[i]
			}
		}
		if val == nil {
			l.errorf(where, sec.Name, "key %q: get: no global key %q", "get "+gk.local, gk.global)
			failed = true
			continue
		}
		local = setEntry(local, registry.Entry{Key: gk.local, Value: val.Value, Origin: fmt.Sprintf("get %s at %s (value from %s)", gk.global, where, val.Origin)})
	}

	var filterWith *registry.Entry
	if t == typeApp || t == typeFilter {
		if i := indexOf(local, "filter-with"); i >= 0 {
			fw := local[i]
			filterWith = &fw
			local = append(local[:i:i], local[i+1:]...)
		}
	}

	prefix, _, _ := strings.Cut(sec.Name, ":")
	var n *Node
	var err error
	switch {
	case prefix == "filter-app":
		n, err = l.filterApp(sec, f, origin, g, local, additions)
	case prefix == "pipeline":
		n, err = l.pipeline(sec, f, origin, g, local)
	case indexOf(local, "use") >= 0:
		n, err = l.fromUse(t, sec, f, origin, g, local, additions)
	case t != typeServer && pythonFactoryKey(local) != "":
		n = &Node{Kind: t.String(), Section: sec.Name, File: f.rel, Origin: origin, Global: mergeEntries(g, additions),
			Local: local, Use: []string{pythonFactoryKey(local)}, pyLeaf: true}
	default:
		err = l.errorf(origin, sec.Name, "no use key: name a registered %s (see gopaste %ss) or another section", t, t)
	}
	if n == nil {
		return nil, err
	}
	if failed && err == nil {
		err = errors.New("section has errors")
	}
	if filterWith != nil {
		fw, ferr := l.get(typeFilter, filterWith.Value, f, g, refTo(sec, *filterWith))
		if ferr != nil {
			return n, ferr
		}
		fw.Role = "filter"
		n.Role = "next"
		wrap := &Node{Kind: "filter-with", Section: sec.Name, File: f.rel, Origin: filterWith.Origin,
			Global: g, Children: []*Node{fw, n}}
		if t == typeFilter {
			wrap.Kind = "filter-with-filter"
		}
		return wrap, err
	}
	return n, err
}

func indexOf(es []registry.Entry, key string) int {
	for i, e := range es {
		if e.Key == key {
			return i
		}
	}
	return -1
}

func (l *loader) pipeline(sec *ini.Section, f *cfgFile, origin string, g, local []registry.Entry) (*Node, error) {
	i := indexOf(local, "pipeline")
	if i < 0 {
		return nil, l.errorf(origin, sec.Name, "pipeline section needs a pipeline key: filters, then one app")
	}
	names := strings.Fields(local[i].Value)
	var extra []string
	for _, e := range local {
		if e.Key != "pipeline" {
			extra = append(extra, fmt.Sprintf("%q (%s)", e.Key, e.Origin))
		}
	}
	if len(extra) > 0 {
		l.errorf(origin, sec.Name, "pipeline section has keys other than pipeline: %s", strings.Join(extra, ", "))
	}
	if len(names) == 0 {
		return nil, l.errorf(local[i].Origin, sec.Name, "key \"pipeline\": empty: list filters, then one app")
	}
	n := &Node{Kind: "pipeline", Section: sec.Name, File: f.rel, Origin: origin, Global: g, Local: local[i : i+1]}
	var firstErr error
	for j, name := range names {
		t, role := typeFilter, "filter"
		if j == len(names)-1 {
			t, role = typeApp, "app"
		}
		c, err := l.get(t, name, f, g, refTo(sec, local[i]))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		c.Role = role
		n.Children = append(n.Children, c)
	}
	if len(extra) > 0 && firstErr == nil {
		firstErr = errors.New("pipeline has extra keys")
	}
	return n, firstErr
}

func (l *loader) filterApp(sec *ini.Section, f *cfgFile, origin string, g, local, additions []registry.Entry) (*Node, error) {
	i := indexOf(local, "next")
	if i < 0 {
		return nil, l.errorf(origin, sec.Name, "filter-app section needs a next key naming the app it wraps")
	}
	nextName, nextRef := local[i].Value, refTo(sec, local[i])
	local = append(local[:i:i], local[i+1:]...)
	n := &Node{Kind: "filter-app", Section: sec.Name, File: f.rel, Origin: origin, Global: g}
	var filt *Node
	var err error
	if indexOf(local, "use") >= 0 {
		filt, err = l.fromUse(typeFilter, sec, f, origin, g, local, additions)
	} else {
		err = l.errorf(origin, sec.Name, "filter-app section needs a use key naming a filter")
	}
	next, nerr := l.get(typeApp, nextName, f, g, nextRef)
	if filt != nil {
		filt.Role = "filter"
		n.Children = append(n.Children, filt)
	}
	if next != nil {
		next.Role = "next"
		n.Children = append(n.Children, next)
	}
	if err == nil {
		err = nerr
	}
	if filt == nil || next == nil {
		return nil, err
	}
	return n, err
}

// fromUse is PasteDeploy's _context_from_use: the section inherits the
// part (or section) it uses, overriding its local keys.
func (l *loader) fromUse(t objType, sec *ini.Section, f *cfgFile, origin string, g, local, additions []registry.Entry) (*Node, error) {
	i := indexOf(local, "use")
	use := local[i]
	local = append(local[:i:i], local[i+1:]...)
	name := strings.TrimSpace(use.Value)
	var base *Node
	var err error
	switch {
	case strings.HasPrefix(name, "config:"):
		base, err = l.getConfigURI(t, name, f, g, refTo(sec, use))
	case t == typeServer && strings.HasPrefix(name, "call:"):
		return nil, l.errorf(use.Origin, sec.Name, "key \"use\": %q: call: names a Python server; gopaste is the server: use = http (or egg:waitress#main, egg:gunicorn#main with their keys)", name)
	case l.isPython(t, name):
		base = &Node{Kind: t.String(), Global: g, pyLeaf: true}
	case strings.HasPrefix(name, "call:"):
		return nil, l.errorf(use.Origin, sec.Name, "key \"use\": %q: call: names a Python object, and this binary has no wsgi app to load it in; gopaste builds parts registered in Go (see gopaste %ss)", name, t)
	case !strings.HasPrefix(name, "egg:") && l.hasSection(t, name, f) && !isSelf(sec, t, name):
		base, err = l.get(t, name, f, g, refTo(sec, use))
	default:
		base, err = l.fromPart(t, name, sec, f, use.Origin, g)
	}
	if base == nil {
		return nil, err
	}
	base.Global = mergeEntries(base.Global, additions)
	base.Local = mergeEntries(base.Local, local)
	base.Use = append([]string{name}, base.Use...)
	base.Section, base.File, base.Origin = sec.Name, f.rel, origin
	return base, err
}

// isSelf reports whether name would find sec itself (use = main inside
// [app:main] means the registered part "main", not a loop).
func isSelf(sec *ini.Section, t objType, name string) bool {
	for _, group := range t.prefixes() {
		for _, p := range group {
			if rest, ok := strings.CutPrefix(sec.Name, p+":"); ok && strings.TrimSpace(rest) == name {
				return true
			}
			if sec.Name == p && name == "main" {
				return true
			}
		}
	}
	return false
}

func (l *loader) fromPart(t objType, name string, sec *ini.Section, f *cfgFile, where string, g []registry.Entry) (*Node, error) {
	kind := map[objType]registry.Kind{typeApp: registry.App, typeFilter: registry.Filter, typeServer: registry.ServerKind}[t]
	p, ok := l.reg.Lookup(kind, name)
	if !ok {
		return nil, l.errorf(where, sec.Name, "key \"use\": unknown %s %q: no such section in %s and no registered %s of that name (see gopaste %ss)%s", t, name, f.rel, t, t, l.suggestPart(t, name, f))
	}
	return &Node{Kind: p.Kind.String(), Part: p.Name, part: p, Global: g}, nil
}

// suggestPart is the "did you mean" hint for a use = name that is neither
// a section of f nor a registered part: the closest registered part or
// section of type t. An egg:Dist#name reference is matched by its name.
func (l *loader) suggestPart(t objType, name string, f *cfgFile) string {
	if rest, ok := strings.CutPrefix(name, "egg:"); ok {
		_, name, _ = strings.Cut(rest, "#")
	}
	names := l.reg.Names(t.kind())
	for _, s := range f.ini.Sections {
		if st, ok := sectionType(s.Name); ok && st == t {
			_, n, _ := cut(s.Name)
			names = append(names, strings.TrimSpace(n))
		}
	}
	return registry.DidYouMean(name, names)
}
