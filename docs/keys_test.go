package docs_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/docs"
	"github.com/gopaste/gopaste/internal/partdoc"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// keysSetup is what a part needs to build in TestKeysTables: its minimal
// keys, and variants that make it ask for keys it reads only when another
// key is set (a session store's path, a rule's name). dir is a temp dir
// for the files a part opens. A part not listed builds with no keys.
// Parts are built with CheckOnly set, as "gopaste check" builds them, so
// the process and wsgi apps start no worker.
type keysSetup struct {
	minimal  func(dir string) map[string]string
	variants []func(dir string) map[string]string
}

// keysSetups gives every part that does not build with no keys what it
// needs. The filters' keys are the ones middleware/passthrough_test.go's
// minimal table gives them.
var keysSetups = map[string]keysSetup{
	// apps
	"app cgi": {minimal: func(dir string) map[string]string {
		return map[string]string{"script": file(dir, "hello.sh", "#!/bin/sh\necho\n")}
	}},
	"app fastcgi_proxy": {minimal: kv("backends", "127.0.0.1:1", "env APP_ENV", "production")},
	"app http_proxy":    {minimal: kv("backends", "127.0.0.1:1")},
	"app scgi_proxy":    {minimal: kv("backends", "127.0.0.1:1")},
	"app uwsgi_proxy":   {minimal: kv("backends", "127.0.0.1:1")},
	"app login": {minimal: func(dir string) map[string]string {
		return map[string]string{"secret": "0123456789abcdef-keys", "htpasswd": file(dir, "htpasswd", "u:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n")}
	}},
	"app process": {
		minimal: kv("command", "sleep 60", "env GREETING", "hello"),
		variants: []func(string) map[string]string{
			kv("command", "sleep 60", "protocol", "fastcgi", "document_root", "/srv", "index", "index.php", "split_path", ".php"),
		},
	},
	"app static": {minimal: func(dir string) map[string]string { return map[string]string{"document_root": dir} }},
	"app wsgi":   {minimal: kv("module", "app:application", "env GREETING", "hello")},
	// composites
	"composite cascade": {minimal: kv("app1", "a", "app2", "b")},
	"composite urlmap":  {minimal: kv("/", "a", "/docs", "b", "domain example.org /", "c", "port 8080 /x", "d", "not_found_app", "e")},
	// filters
	"filter basicauth": {minimal: func(dir string) map[string]string {
		return map[string]string{"htpasswd": file(dir, "htpasswd", "u:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n")}
	}},
	"filter cookieauth": {minimal: kv("secret", "0123456789abcdef-keys")},
	"filter limit":      {minimal: kv("rate", "1000/s", "burst", "1000", "max_concurrency", "100", "max_body_bytes", "1M")},
	"filter profile":    {minimal: kv("key", "0123456789abcdef-keys")},
	"filter proxyfix":   {minimal: kv("trusted_proxies", "127.0.0.0/8")},
	"filter redirect":   {minimal: kv("rule 1", "^/nowhere$ /elsewhere")},
	"filter rewrite":    {minimal: kv("rule 1", "^/nowhere$ /elsewhere")},
	"filter headers":    {minimal: kv("preset", "security", "replace X-A", "1", "add X-B", "2", "default X-C", "3", "remove X-D", "", "remove", "X-E")},
	"filter accesslog": {variants: []func(string) map[string]string{
		kv("logger_name", "wsgi", "logging_level", "INFO", "set_logger_level", "INFO"),
	}},
	"filter compress": {variants: []func(string) map[string]string{kv("compress_level", "6")}},
	"filter session": {variants: []func(string) map[string]string{
		func(dir string) map[string]string { return map[string]string{"store": "file", "path": dir} },
		func(dir string) map[string]string {
			return map[string]string{"store": "sqlite", "path": filepath.Join(dir, "s.db")}
		},
		kv("store", "redis", "url", "redis://127.0.0.1:1/0"),
		kv("store", "postgres", "dsn", "postgres://127.0.0.1:1/x?connect_timeout=1"),
	}},
}

// keysExceptions are the parts whose keys table is not what their
// factory asks for, and why.
var keysExceptions = map[string]string{
	"server waitress": "deploy/python_server.go translates waitress's keys into the http server's; the table maps them",
	"server gunicorn": "deploy/python_server.go translates gunicorn's keys into the http server's; the table maps them",
}

// TestKeysTables: each registered part, built with its minimal keys (and
// variants), asks only for keys documented in its section's keys table
// (or a table the section links to as its "keys"), and every key a table
// documents is asked for by a part whose section shows that table. This
// is the table "gopaste apps NAME" prints.
func TestKeysTables(t *testing.T) {
	type tableUse struct {
		table partdoc.Table
		asked []string // by the parts showing it
		parts []string
	}
	tables := map[string]*tableUse{}
	built := 0
	for _, k := range []registry.Kind{registry.App, registry.Composite, registry.Filter, registry.ServerKind} {
		for _, p := range registry.Default.Parts(k) {
			id := k.String() + " " + p.Name
			if _, ok := keysExceptions[id]; ok {
				continue
			}
			s := keysSetups[id]
			asked := build(t, p, s.minimal, true)
			for _, v := range s.variants {
				asked = append(asked, build(t, p, v, false)...)
			}
			built++
			sec, found := partdoc.Find(docs.Pages, k.String(), append([]string{p.Name}, p.Aliases...)...)
			if !found || len(sec.Tables) == 0 {
				if len(asked) > 0 {
					where := "no section names it"
					if found {
						where = fmt.Sprintf("%s %q has no keys table", sec.Page, sec.Heading)
					}
					t.Errorf("%s asks for %v but %s", id, uniq(asked), where)
				}
				continue
			}
			keys := sec.Keys()
			for _, a := range uniq(asked) {
				if !documents(keys, a) {
					t.Errorf("%s: key %q is read by the factory but missing from the table in %s %q", id, a, sec.Page, sec.Heading)
				}
			}
			for _, tb := range sec.Tables {
				u := tables[tb.Page+"#"+tb.Anchor]
				if u == nil {
					u = &tableUse{table: tb}
					tables[tb.Page+"#"+tb.Anchor] = u
				}
				u.asked = append(u.asked, asked...)
				u.parts = append(u.parts, id)
			}
		}
	}
	for _, u := range tables {
		for _, key := range u.table.Keys {
			for _, n := range key.Names {
				one := partdoc.Key{Names: []string{n}}
				ok := false
				for _, a := range u.asked {
					if one.Matches(a) {
						ok = true
						break
					}
				}
				if !ok {
					t.Errorf("%s %q documents key %q, which no factory showing the table (%s) asks for", u.table.Page, u.table.Heading, n, strings.Join(u.parts, ", "))
				}
			}
		}
	}
	if built < 30 {
		t.Errorf("only %d parts built: is builtin imported?", built)
	}
}

// build runs p's factory, in check-only mode, on the keys keys gives and
// returns the keys it asked for. With mustBuild a failed build is an
// error (the minimal keys are wrong); a variant may fail (a store it
// cannot reach), as its factory asks for the keys first.
func build(t *testing.T, p *registry.Part, keys func(string) map[string]string, mustBuild bool) []string {
	t.Helper()
	var local map[string]string
	if keys != nil {
		local = keys(t.TempDir())
	}
	c := registrytest.Config(p.Kind, p.Kind.String()+":"+p.Name, filepath.Join(t.TempDir(), "t.ini"), local)
	c.Loader = stubLoader{}
	c.CheckOnly = true
	c.Logger = slog.New(slog.DiscardHandler)
	var err error
	switch p.Kind {
	case registry.App, registry.Composite:
		_, err = p.App(c)
	case registry.Filter:
		_, err = p.Filter(c)
	case registry.ServerKind:
		_, err = p.Server(c)
	}
	if err == nil {
		err = c.Err()
	}
	for _, cl := range c.Closers() {
		cl.Close()
	}
	if mustBuild && err != nil {
		t.Errorf("%s %s does not build with keys %v: %v (give it keys in keysSetups)", p.Kind, p.Name, local, err)
	}
	return c.Asked()
}

func documents(keys []partdoc.Key, key string) bool {
	for _, k := range keys {
		if k.Matches(key) {
			return true
		}
	}
	return false
}

func uniq(ss []string) []string {
	m := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !m[s] {
			m[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// stubLoader answers every name a composite asks for with a handler.
type stubLoader struct{}

func (stubLoader) App(string) (http.Handler, error) { return http.NotFoundHandler(), nil }
func (stubLoader) Filter(string) (func(http.Handler) http.Handler, error) {
	return func(h http.Handler) http.Handler { return h }, nil
}

func kv(pairs ...string) func(string) map[string]string {
	return func(string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(pairs); i += 2 {
			m[pairs[i]] = pairs[i+1]
		}
		return m
	}
}

// file writes a file named name in dir and returns its path.
func file(dir, name, content string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		panic(err)
	}
	return p
}
