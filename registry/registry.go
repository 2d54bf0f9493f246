// Package registry holds gopaste's named parts: the factories that build
// apps, filters, composites and servers from a config section, the wire
// protocols a server section speaks, and the stores the session filter
// keeps sessions in.
//
// Factories register themselves from init, the way Caddy modules do, and
// the deploy package looks them up by the name (or an alias) that a config
// file's "use" key gives. [Default] serves the binary and plug-ins; tests
// build an isolated [Registry] with [New].
//
// A factory validates its keys and builds; it starts nothing. A part that
// holds resources registers an io.Closer with [Config.OnClose]; deploy
// closes them in reverse order on shutdown, reload or a failed build.
// State that must outlive a reload is kept with [Shared] in the [Pool]
// the serve loop keeps across builds.
package registry

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Kind says what a factory builds.
type Kind int

// The four kinds of parts a config file composes, and the two kinds of
// parts that server and session sections name by a key ("protocol",
// "store").
const (
	App Kind = iota + 1
	Filter
	Composite
	ServerKind
	ProtocolKind
	StoreKind
)

func (k Kind) String() string {
	switch k {
	case App:
		return "app"
	case Filter:
		return "filter"
	case Composite:
		return "composite"
	case ServerKind:
		return "server"
	case ProtocolKind:
		return "protocol"
	case StoreKind:
		return "store"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// AppFactory builds an application (or, for a composite, an application
// made of other named parts, reached through [Config.Loader]).
type AppFactory func(c *Config) (http.Handler, error)

// FilterFactory builds a middleware.
type FilterFactory func(c *Config) (func(http.Handler) http.Handler, error)

// ServerFactory builds a server. The server starts nothing until Run.
type ServerFactory func(c *Config) (Server, error)

// Server serves a handler. Run listens, logs each address it listens on
// (the port it got when port is 0), serves h until ctx is done, then shuts
// down gracefully within the server's grace period and returns. It returns
// nil after a clean shutdown.
type Server interface {
	Run(ctx context.Context, h http.Handler) error
}

// Part is one registered factory.
type Part struct {
	Kind        Kind
	Name        string
	Aliases     []string
	Description string // one line, for "gopaste apps" and friends

	App      AppFactory    // App and Composite
	Filter   FilterFactory // Filter
	Server   ServerFactory // ServerKind
	Protocol *Protocol     // ProtocolKind
	// Store is a StoreKind factory. Its type belongs to the package that
	// uses stores (session.StoreFactory, which registry cannot name);
	// registry keeps it by name and does not look inside.
	Store any
}

// Registry is a set of named parts. It is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	parts  map[string]*Part // by name and by alias; key is kind+"\x00"+name
	list   []*Part
	protos []*Part // the protocols in sniffing order
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{parts: make(map[string]*Part)}
}

// Default is the registry the gopaste binary and plug-ins use.
var Default = New()

func key(k Kind, name string) string {
	if k == Composite {
		k = App // composites and apps share one namespace, as in PasteDeploy
	}
	return fmt.Sprintf("%d\x00%s", k, name)
}

// Add registers p under its name and aliases. It refuses a name or alias
// already taken in the same namespace (apps and composites share one).
func (r *Registry) Add(p Part) error {
	if p.Name == "" {
		return fmt.Errorf("registry: part has no name")
	}
	switch p.Kind {
	case App, Composite:
		if p.App == nil {
			return fmt.Errorf("registry: %s %q has no factory", p.Kind, p.Name)
		}
	case Filter:
		if p.Filter == nil {
			return fmt.Errorf("registry: filter %q has no factory", p.Name)
		}
	case ServerKind:
		if p.Server == nil {
			return fmt.Errorf("registry: server %q has no factory", p.Name)
		}
	case ProtocolKind:
		if p.Protocol == nil || p.Protocol.New == nil {
			return fmt.Errorf("registry: protocol %q has no factory", p.Name)
		}
	case StoreKind:
		if p.Store == nil {
			return fmt.Errorf("registry: store %q has no factory", p.Name)
		}
	default:
		return fmt.Errorf("registry: part %q has no kind", p.Name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	names := append([]string{p.Name}, p.Aliases...)
	for _, n := range names {
		if old, ok := r.parts[key(p.Kind, n)]; ok {
			return fmt.Errorf("registry: %s name %q is taken by %q", p.Kind, n, old.Name)
		}
	}
	pp := &p
	for _, n := range names {
		r.parts[key(p.Kind, n)] = pp
	}
	r.list = append(r.list, pp)
	if p.Kind == ProtocolKind {
		r.protos = append(r.protos, pp)
		sort.SliceStable(r.protos, func(i, j int) bool {
			a, b := r.protos[i], r.protos[j]
			return a.Protocol.Order < b.Protocol.Order || a.Protocol.Order == b.Protocol.Order && a.Name < b.Name
		})
	}
	return nil
}

// MustAdd is Add that panics on error, for init functions.
func (r *Registry) MustAdd(p Part) {
	if err := r.Add(p); err != nil {
		panic(err)
	}
}

// AddApp registers an app factory.
func (r *Registry) AddApp(name string, f AppFactory, desc string, aliases ...string) error {
	return r.Add(Part{Kind: App, Name: name, Aliases: aliases, Description: desc, App: f})
}

// AddComposite registers a composite factory.
func (r *Registry) AddComposite(name string, f AppFactory, desc string, aliases ...string) error {
	return r.Add(Part{Kind: Composite, Name: name, Aliases: aliases, Description: desc, App: f})
}

// AddFilter registers a filter factory.
func (r *Registry) AddFilter(name string, f FilterFactory, desc string, aliases ...string) error {
	return r.Add(Part{Kind: Filter, Name: name, Aliases: aliases, Description: desc, Filter: f})
}

// AddServer registers a server factory.
func (r *Registry) AddServer(name string, f ServerFactory, desc string, aliases ...string) error {
	return r.Add(Part{Kind: ServerKind, Name: name, Aliases: aliases, Description: desc, Server: f})
}

// Lookup finds a part of kind k by name or alias. Composite and App look
// in the same namespace. A "egg:Dist#name" reference is found under the
// whole string or under name.
func (r *Registry) Lookup(k Kind, name string) (*Part, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if p, ok := r.parts[key(k, name)]; ok {
		return p, true
	}
	if rest, ok := strings.CutPrefix(name, "egg:"); ok {
		if _, n, ok := strings.Cut(rest, "#"); ok {
			if p, ok := r.parts[key(k, n)]; ok {
				return p, true
			}
		} else if p, ok := r.parts[key(k, "main")]; ok {
			return p, true
		}
	}
	return nil, false
}

// Parts lists the parts of kind k (App lists apps only; Composite lists
// composites), sorted by name.
func (r *Registry) Parts(k Kind) []*Part {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Part
	for _, p := range r.list {
		if p.Kind == k {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// RegisterApp adds an app to Default; it panics on a duplicate name.
func RegisterApp(name string, f AppFactory, desc string, aliases ...string) {
	Default.MustAdd(Part{Kind: App, Name: name, Aliases: aliases, Description: desc, App: f})
}

// RegisterComposite adds a composite to Default; it panics on a duplicate.
func RegisterComposite(name string, f AppFactory, desc string, aliases ...string) {
	Default.MustAdd(Part{Kind: Composite, Name: name, Aliases: aliases, Description: desc, App: f})
}

// RegisterFilter adds a filter to Default; it panics on a duplicate name.
func RegisterFilter(name string, f FilterFactory, desc string, aliases ...string) {
	Default.MustAdd(Part{Kind: Filter, Name: name, Aliases: aliases, Description: desc, Filter: f})
}

// RegisterServer adds a server to Default; it panics on a duplicate name.
func RegisterServer(name string, f ServerFactory, desc string, aliases ...string) {
	Default.MustAdd(Part{Kind: ServerKind, Name: name, Aliases: aliases, Description: desc, Server: f})
}
