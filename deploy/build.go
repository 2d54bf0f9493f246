package deploy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

// build makes the handler of an app-like node.
func (l *loader) build(n *Node) (http.Handler, error) {
	if n.handler != nil {
		return n.handler, nil
	}
	if h, done, err := l.buildPython(n); done {
		return h, err
	}
	switch n.Kind {
	case "pipeline":
		if len(n.Children) == 0 {
			return nil, errors.New("empty pipeline")
		}
		// Every part is built, so that every error is reported at once.
		var errs []error
		h, err := l.build(n.Children[len(n.Children)-1])
		errs = append(errs, err)
		filters := make([]func(http.Handler) http.Handler, len(n.Children)-1)
		for i := len(filters) - 1; i >= 0; i-- { // innermost first, as they wrap
			filters[i], err = l.buildFilter(n.Children[i])
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		app := h
		for i := len(filters) - 1; i >= 0; i-- {
			h = filters[i](h)
		}
		h = passConfig(h, app)
		n.handler = h
	case "filter-app", "filter-with":
		f, ferr := l.buildFilter(n.Children[0])
		next, err := l.build(n.Children[1])
		if err := errors.Join(ferr, err); err != nil {
			return nil, err
		}
		n.handler = passConfig(f(next), next)
	case "app", "composite":
		cfg := l.config(n)
		h, err := n.part.App(cfg)
		if err = l.finish(n, cfg, err); err != nil {
			return nil, err
		}
		if h == nil {
			return nil, l.errorf(n.Origin, n.Section, "%s %q built no handler", n.Kind, n.Part)
		}
		if n.Kind == "app" {
			h = &withConfig{h: h, rc: &RequestConfig{Section: n.Section, File: n.File,
				Global: cfg.Global(), Local: cfg.Local()}}
		}
		n.handler = h
	default:
		return nil, l.errorf(n.Origin, n.Section, "a %s is not an app", n.Kind)
	}
	return n.handler, nil
}

// buildFilter makes the middleware of a filter-like node.
func (l *loader) buildFilter(n *Node) (func(http.Handler) http.Handler, error) {
	if n.filter != nil {
		return n.filter, nil
	}
	if n.pyLeaf {
		return nil, l.errorf(n.Origin, holderName(n), "a Python filter (use = %s) wraps Python apps only: PasteDeploy loads it with the app it wraps, in a pipeline or filter-app whose app is Python", strings.Join(n.Use, " -> "))
	}
	switch n.Kind {
	case "filter":
		cfg := l.config(n)
		f, err := n.part.Filter(cfg)
		if err = l.finish(n, cfg, err); err != nil {
			return nil, err
		}
		if f == nil {
			return nil, l.errorf(n.Origin, n.Section, "filter %q built no middleware", n.Part)
		}
		n.filter = f
	case "filter-with-filter":
		outer, oerr := l.buildFilter(n.Children[0])
		inner, err := l.buildFilter(n.Children[1])
		if err := errors.Join(oerr, err); err != nil {
			return nil, err
		}
		n.filter = func(h http.Handler) http.Handler { return outer(inner(h)) }
	default:
		return nil, l.errorf(n.Origin, n.Section, "a %s is not a filter", n.Kind)
	}
	return n.filter, nil
}

func (l *loader) buildServer(n *Node) (registry.Server, error) {
	if n.Kind != "server" {
		return nil, l.errorf(n.Origin, n.Section, "a %s is not a server", n.Kind)
	}
	cfg := l.config(n)
	if local, ok := l.serverLocal(n); ok {
		tn := *n
		tn.Local = local
		cfg = l.config(&tn)
		askDialect(cfg, n.Part) // unknown keys get waitress's or gunicorn's names as suggestions
		n.wrap = l.serverWrap(n)
	}
	n.log = readLog(cfg)
	s, err := n.part.Server(cfg)
	if err = l.finish(n, cfg, err); err != nil {
		return nil, err
	}
	n.server = s
	if e, ok := s.(registry.Exposer); ok && e.Exposed() {
		l.exposed = true
	}
	return s, nil
}

// warnExposed reports the warnings that matter on an exposed server when
// a server built is one (registry.Config.WarnExposedf).
func (l *loader) warnExposed() {
	if !l.exposed {
		return
	}
	for _, w := range l.exposedWarnings {
		l.warn(w)
	}
}

func (l *loader) config(n *Node) *registry.Config {
	kind := n.part.Kind
	section := n.Section
	if section == "" {
		section = n.Kind + ":" + n.Ref
	}
	c := registry.NewConfig(kind, section, n.Origin, l.absFile(n.File), n.Global, n.Local,
		&partLoader{l: l, parent: n}, l.logger.With("component", section))
	c.Registry, c.Pool, c.Stdout = l.reg, l.opts.Pool, l.opts.Stdout
	c.CheckOnly = l.checkOnly
	return c
}

func (l *loader) absFile(rel string) string {
	for _, f := range l.files {
		if f.rel == rel {
			return f.path
		}
	}
	return rel
}

// finish collects what a factory registered and checks its keys.
func (l *loader) finish(n *Node, cfg *registry.Config, err error) error {
	for _, c := range cfg.Closers() {
		l.closers = append(l.closers, c)
	}
	if !cfg.CheckOnly {
		for _, s := range cfg.Starts() {
			l.starts = append(l.starts, partStart{n: n, cfg: cfg, run: s})
		}
	}
	l.watched = append(l.watched, cfg.Watched()...)
	n.watched = cfg.Watched()
	for _, w := range cfg.Warnings() {
		dw := Warning{Origin: w.Origin, Section: cfg.Section, Key: w.Key, Msg: w.Msg}
		if w.Exposed {
			l.exposedWarnings = append(l.exposedWarnings, dw)
		} else {
			l.warn(dw)
		}
	}
	var errs []error
	if err != nil {
		errs = append(errs, err)
	} else if cerr := cfg.Err(); cerr != nil {
		errs = append(errs, cerr)
	}
	errs = append(errs, cfg.UnreadErrors(fmt.Sprintf("%s %q", n.Kind, n.Part))...)
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs {
		l.addErr(e)
	}
	return errors.Join(errs...)
}

// partStart is what a part registered with registry.Config.OnStart.
type partStart struct {
	n   *Node
	cfg *registry.Config
	run func() error
}

// start runs, in order, what the parts registered with OnStart, once the
// whole tree has built without an error; the first error stops it (and
// is recorded). Files a part declared while starting (a wsgi app's
// modules, known once its first worker imported them) are watched too,
// and what it registered with OnClose is closed with the rest, also
// when the start failed.
func (l *loader) start() error {
	starts := l.starts
	l.starts = nil
	for _, s := range starts {
		before := len(s.cfg.Watched())
		closers := len(s.cfg.Closers())
		err := s.run()
		for _, c := range s.cfg.Closers()[closers:] {
			l.closers = append(l.closers, c)
		}
		if err != nil {
			l.addErr(err)
			return err
		}
		if w := s.cfg.Watched(); len(w) > before {
			l.watched = append(l.watched, w[before:]...)
			s.n.watched = w
		}
	}
	return nil
}

// partLoader is the registry.Loader a composite uses to reach other parts
// of the same config.
type partLoader struct {
	l      *loader
	parent *Node
}

func (p *partLoader) file() *cfgFile {
	return p.l.files[p.l.absFile(p.parent.File)]
}

func (p *partLoader) App(name string) (http.Handler, error) {
	f := p.file()
	if f == nil {
		return nil, fmt.Errorf("no config file to look up %q in", name)
	}
	n, err := p.l.get(typeApp, name, f, p.parent.Global, keyRef{})
	if err != nil {
		return nil, err
	}
	n.Role = "app"
	n.Ref = name
	p.parent.Children = append(p.parent.Children, n)
	return p.l.build(n)
}

func (p *partLoader) Filter(name string) (func(http.Handler) http.Handler, error) {
	f := p.file()
	if f == nil {
		return nil, fmt.Errorf("no config file to look up %q in", name)
	}
	n, err := p.l.get(typeFilter, name, f, p.parent.Global, keyRef{})
	if err != nil {
		return nil, err
	}
	n.Role = "filter"
	p.parent.Children = append(p.parent.Children, n)
	return p.l.buildFilter(n)
}

func (l *loader) closeAll() error {
	var errs []error
	for i := len(l.closers) - 1; i >= 0; i-- {
		if err := l.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	l.closers = nil
	return errors.Join(errs...)
}

var _ io.Closer = (*App)(nil)

// addErr records e and the errors it joins. An error that wraps one
// already recorded (a composite reporting the failure of an app it
// loaded) replaces it, since it says where the reference was made.
func (l *loader) addErr(e error) {
	if u, ok := e.(interface{ Unwrap() []error }); ok {
		for _, x := range u.Unwrap() {
			l.addErr(x)
		}
		return
	}
	msg := e.Error()
	for i, x := range l.errs {
		xm := x.Error()
		if xm == msg || strings.Contains(xm, msg) {
			return
		}
		if strings.Contains(msg, xm) {
			l.errs[i] = e
			return
		}
	}
	l.errs = append(l.errs, e)
}
