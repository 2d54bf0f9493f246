// Package registrytest helps tests of factories: it builds the config view
// a factory receives from a map of keys and checks what the factory did
// with it, so each part's tests state only their cases.
package registrytest

import (
	"sort"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
)

// Config returns the view a factory gets for section (as "filter:gz")
// with local keys, as if read from file: every key at "t.ini:2", the
// section at "t.ini:1". Keys are in sorted order.
func Config(kind registry.Kind, section, file string, local map[string]string) *registry.Config {
	keys := make([]string, 0, len(local))
	for k := range local {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var es []registry.Entry
	for _, k := range keys {
		es = append(es, registry.Entry{Key: k, Value: local[k], Origin: "t.ini:2"})
	}
	return registry.NewConfig(kind, section, "t.ini:1", file, nil, es, nil, nil)
}

// CheckFilter runs the factory registered in registry.Default as name (or
// alias) on local keys. With wantErr set, the factory must fail with an
// error containing it (such as `key "level"`); otherwise it must build a
// middleware and read every key. Resources the factory registered are
// closed when the test ends.
func CheckFilter(t testing.TB, name, section, file string, local map[string]string, wantErr string) {
	t.Helper()
	c := Config(registry.Filter, section, file, local)
	p, ok := registry.Default.Lookup(registry.Filter, name)
	if !ok {
		t.Fatalf("%s is not registered", name)
	}
	f, err := p.Filter(c)
	t.Cleanup(func() {
		for _, cl := range c.Closers() {
			cl.Close()
		}
	})
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want one naming %s", err, wantErr)
		}
		return
	}
	if err != nil || f == nil {
		t.Fatalf("nil filter %v, err %v", f == nil, err)
	}
	if u := c.Unread(); len(u) != 0 {
		t.Errorf("unread keys %v", u)
	}
}

// Generation returns the config view of one build (one generation) of
// section, as Config makes it, sharing pool as the serve loop's builds
// do, and a func that discards the build: it closes what the factory
// registered (releasing its shared values) in reverse order, as deploy
// does. Tests of parts that keep state with registry.Shared build twice
// with one pool to check the state is kept.
func Generation(t testing.TB, pool *registry.Pool, kind registry.Kind, section, file string, local map[string]string) (c *registry.Config, discard func()) {
	t.Helper()
	c = Config(kind, section, file, local)
	c.Pool = pool
	return c, func() {
		cl := c.Closers()
		for i := len(cl) - 1; i >= 0; i-- {
			if err := cl[i].Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		}
	}
}

// Copy returns a new registry holding the parts of from (every kind)
// except those named in except, for a test that adds or replaces parts
// without touching from.
func Copy(t testing.TB, from *registry.Registry, except ...string) *registry.Registry {
	t.Helper()
	r := registry.New()
	for _, k := range []registry.Kind{registry.App, registry.Composite, registry.Filter, registry.ServerKind, registry.ProtocolKind, registry.StoreKind} {
		for _, p := range from.Parts(k) {
			skip := false
			for _, n := range except {
				skip = skip || p.Name == n
			}
			if skip {
				continue
			}
			if err := r.Add(*p); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r
}
