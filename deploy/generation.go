package deploy

import (
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gopaste/gopaste/registry"
)

// Generation is one load of a config for serving: the app and the server
// that serves it, built from one parse of the file, with everything the
// parts registered (the files they watch, what to close, what to reopen).
// "gopaste serve" builds one at start and one per reload; the server
// keeps its listeners and takes each new generation's Handler.
type Generation struct {
	// Handler is the app. When it is an app section (not a pipeline or
	// composite) it has a ConnContext method, as http.Server.ConnContext
	// takes, that puts the app's config into the connection's context.
	Handler http.Handler
	// Server serves Handler; on a reload the running server stays and the
	// new generation's Server is not run.
	Server registry.Server
	// App and ServerNode are the resolved trees ("gopaste check" prints
	// them).
	App, ServerNode *Node
	// DefaultServer reports that the file has no [server:main], so
	// Server is the http server with its defaults, as gunicorn --paste
	// does.
	DefaultServer bool
	// Log is how the server section (or [DEFAULT]) asks gopaste serve to
	// log.
	Log LogConfig
	// Warnings are the problems that did not stop the build, including
	// the sections it ignored; the caller logs them.
	Warnings []Warning
	// Files lists the config files read and the files the app's and the
	// server's parts declared (htpasswd files, certificates): what
	// --reload watches.
	Files []string

	mu     sync.Mutex
	closed bool
	err    error
	l      *loader
}

// LogConfig is what a server section (or [DEFAULT]) says about the
// process's own log, through the keys log_level, log_format and log_file,
// which deploy reads for every server section. Empty fields are unset.
type LogConfig struct {
	Level  string // "debug", "info", "warn" or "error"
	Format string // "text" or "json"
	// File is the path of the log file, opened for appending and reopened
	// on SIGUSR1; "" means standard error.
	File string
	// FileOrigin says where File was set, for errors opening it.
	FileOrigin string
}

// Reopener is a resource that reopens its files, as a log after logrotate
// moved it away. A part registers it with registry.Config.OnClose like any
// resource; [Generation.Reopen] calls every such Reopen ("gopaste serve"
// does on SIGUSR1). The access log's writer is one.
type Reopener interface {
	Reopen() error
}

// WorkerScaler is a resource whose number of worker processes can change
// while it serves: the process and wsgi apps. A part registers it with
// registry.Config.OnClose like any resource; [Generation.AddWorkers]
// calls every such AddWorkers ("gopaste serve" does on SIGTTIN and
// SIGTTOU).
type WorkerScaler interface {
	// AddWorkers changes the number of workers by delta (+1 or -1 from
	// the signals) and returns the new number.
	AddWorkers(delta int) (int, error)
}

// Load parses the config at path once and builds from it the app called
// app and the server called srv ("main" when empty). A file without the
// server section srv = "main" is served by the http server with its
// defaults. Options.ServerKeys override the server section's keys.
//
// On error nothing is left open, and the error (an *[Error]) holds every
// error of the file as [Check] reports them, in the same order: when the
// app or the server does not build, the file's other sections are built
// too, for their errors.
func Load(path, app, srv string, o Options) (*Generation, error) {
	return load(path, app, srv, true, o)
}

func load(path, app, srv string, withServer bool, o Options) (*Generation, error) {
	if app == "" {
		app = "main"
	}
	if srv == "" {
		srv = "main"
	}
	l := newLoader(o)
	global := globalEntries(o.Global)
	f, err := l.open(path, global)
	if err != nil {
		return nil, &Error{Errs: []error{err}}
	}
	g := &Generation{l: l}
	l.top, l.srvName = f, srv
	if withServer {
		l.track(l.sectionAt(typeServer, srv, f), func() {
			var sn *Node
			if srv == "main" && !l.hasSection(typeServer, srv, f) {
				sn, err = l.defaultServer(f)
				g.DefaultServer = true
			} else {
				sn, err = l.get(typeServer, srv, f, global, keyRef{})
			}
			if sn != nil && err == nil {
				sn.Local = mergeEntries(sn.Local, o.ServerKeys)
				g.ServerNode = sn
				g.Server, _ = l.buildServer(sn)
				g.Log = sn.log
				if g.Log.Level == "" {
					// Python's [logger_root] level, as pserve sets it.
					g.Log.Level = pythonLogLevel(f)
				}
			}
		})
	}
	if withServer && o.AppCheckOnly != nil {
		// Without a server nothing is served: the app is built for its
		// errors only.
		l.checkOnly = g.Server == nil || o.AppCheckOnly(g.Server)
	}
	l.track(l.sectionAt(typeApp, app, f), func() {
		if n, _ := l.get(typeApp, app, f, global, keyRef{}); n != nil && len(l.errs) == 0 {
			g.App = n
			g.Handler, _ = l.build(n)
		}
	})
	if len(l.errs) > 0 || g.Handler == nil || (withServer && g.Server == nil) {
		// The other sections are built too, for their errors, which are
		// then put in the order Check gives them.
		reached := map[string]bool{}
		for _, n := range []*Node{g.App, g.ServerNode} {
			if n != nil {
				markReached(n, reached)
			}
		}
		l.checkOnly = true // built to be closed: they start nothing
		l.buildAll(f, reached)
		l.closeAll()
		l.errs = l.errsInFileOrder()
		return nil, l.failure(errors.New("deploy: nothing built"))
	}
	if err := l.start(); err != nil {
		l.closeAll()
		return nil, l.failure(err)
	}
	if g.ServerNode != nil && g.ServerNode.wrap != nil {
		g.Handler = g.ServerNode.wrap(g.Handler)
	}
	l.warnPythonKeysUnused()
	l.warnExposed()
	g.Warnings = l.warnings
	g.Files = l.watched
	return g, nil
}

// sectionAt is the index in f of the section name of type t resolves
// to, or -1.
func (l *loader) sectionAt(t objType, name string, f *cfgFile) int {
	sec, err := l.findSection(t, name, f)
	if err != nil {
		return -1
	}
	return slices.Index(f.ini.Sections, sec)
}

// errSegment is the run of l.errs that building the top-level section
// at index at (in its file) recorded.
type errSegment struct{ at, from, to int }

// track runs build as the build of the top-level section at index at.
func (l *loader) track(at int, build func()) {
	from := len(l.errs)
	build()
	l.segs = append(l.segs, errSegment{at, from, len(l.errs)})
}

// errsInFileOrder returns l.errs ordered by the top-level section whose
// build recorded them, in file order, as Check, which builds the sections
// in that order, reports them; errors recorded outside a build (parsing)
// come first.
func (l *loader) errsInFileOrder() []error {
	at := make([]int, len(l.errs))
	for i := range at {
		at[i] = -1
	}
	for _, sg := range l.segs {
		for i := sg.from; i < sg.to; i++ {
			at[i] = sg.at
		}
	}
	idx := make([]int, len(l.errs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return at[a] - at[b] })
	out := make([]error, len(idx))
	for i, j := range idx {
		out[i] = l.errs[j]
	}
	return out
}

// defaultServer resolves the http server with its defaults, for a file
// that has no [server:main].
func (l *loader) defaultServer(f *cfgFile) (*Node, error) {
	p, ok := l.reg.Lookup(registry.ServerKind, "http")
	if !ok {
		return nil, l.errorf(f.rel, "server:main", "no such section, and no http server is registered to serve by default")
	}
	return &Node{Kind: "server", Section: "server:main", File: f.rel, Origin: "(default)", Ref: "main",
		Part: p.Name, part: p, Global: mergeEntries(f.defaults, globalEntries(l.opts.Global))}, nil
}

// Close releases the parts' resources in reverse order of creation. It
// is safe to call more than once.
func (g *Generation) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		g.err = g.l.closeAll()
	}
	return g.err
}

// Reopen calls Reopen on every resource the parts registered that is a
// [Reopener], and returns their errors joined.
func (g *Generation) Reopen() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	var errs []error
	for _, c := range g.l.closers {
		if r, ok := c.(Reopener); ok {
			errs = append(errs, r.Reopen())
		}
	}
	return errors.Join(errs...)
}

// AddWorkers changes by delta the number of workers of every resource
// the parts registered that is a [WorkerScaler], and returns the numbers
// they now run, in the order they were registered (none when no part
// runs workers), with their errors joined. The change lasts until the
// next reload, which builds the parts anew from the config.
func (g *Generation) AddWorkers(delta int) ([]int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, nil
	}
	var counts []int
	var errs []error
	for _, c := range g.l.closers {
		if s, ok := c.(WorkerScaler); ok {
			n, err := s.AddWorkers(delta)
			counts = append(counts, n)
			errs = append(errs, err)
		}
	}
	return counts, errors.Join(errs...)
}

// Levels and formats the log keys take.
var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// readLog reads the log keys of a server section, locally or from the
// global config, and marks them read.
func readLog(c *registry.Config) LogConfig {
	get := func(key string, choices []string) (string, string) {
		if c.Has(key) {
			if choices == nil {
				return c.Path(key, ""), c.KeyOrigin(key)
			}
			return c.OneOf(key, "", choices...), c.KeyOrigin(key)
		}
		es := c.GlobalEntries()
		for i := len(es) - 1; i >= 0; i-- {
			e := es[i]
			if e.Key != key {
				continue
			}
			v := strings.TrimSpace(e.Value)
			if choices == nil {
				if v != "" && !filepath.IsAbs(v) {
					v = filepath.Join(c.Here, v)
				}
				return v, e.Origin
			}
			for _, ch := range choices {
				if v == ch {
					return v, e.Origin
				}
			}
			c.Errorf("", "key %q (%s): %q is not one of %s", key, e.Origin, v, strings.Join(choices, ", "))
			break
		}
		return "", ""
	}
	var lc LogConfig
	lc.Level, _ = get("log_level", logLevels)
	lc.Format, _ = get("log_format", logFormats)
	lc.File, lc.FileOrigin = get("log_file", nil)
	return lc
}
