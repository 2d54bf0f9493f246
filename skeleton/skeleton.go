// Package skeleton holds the project templates of "gopaste create", as
// paster create's: a directory tree per template in an embed.FS, written
// into a new project directory. Files whose name ends in ".tmpl" are
// rendered with text/template (and lose the suffix); the others are
// copied as they are. Templates see a small set of variables ([Vars]):
// the project's name, its Go module path, the host and port it listens
// on, its absolute directory, and a few per template, each overridable
// ("gopaste create --var port=9000").
package skeleton

import (
	"bytes"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"text/template"
)

//go:embed all:templates
var files embed.FS

// Template is one skeleton.
type Template struct {
	Name    string
	Summary string            // one line, for "gopaste templates"
	Vars    map[string]string // the template's own variables and their defaults
}

// templates are the skeletons, in the order "gopaste templates" lists them.
var templates = []Template{
	{Name: "static", Summary: "a static site: files from public/ with compression, caching and security headers"},
	{Name: "proxy", Summary: "gopaste in front of two HTTP backends, balanced, with health checks and retries",
		Vars: map[string]string{"backend1": "127.0.0.1:8081", "backend2": "127.0.0.1:8082"}},
	{Name: "php", Summary: "PHP-FPM behind gopaste: the process app starts php-fpm and sends it FastCGI requests",
		Vars: map[string]string{"php_fpm": "php-fpm8.2", "workers": "4", "php_user": ""}},
	{Name: "wsgi", Summary: "a Python WSGI application served by the wsgi app, with its tests",
		Vars: map[string]string{"python": ""}},
	{Name: "goapp", Summary: "a Go module whose main imports gopaste and registers its own app: traversal, a form, sessions, templates, tests",
		Vars: map[string]string{"gopaste_version": "", "gopaste_replace": "", "secret": ""}},
}

// List returns the templates.
func List() []Template {
	out := make([]Template, len(templates))
	copy(out, templates)
	return out
}

// Lookup returns the template called name.
func Lookup(name string) (Template, bool) {
	for _, t := range templates {
		if t.Name == name {
			return t, true
		}
	}
	return Template{}, false
}

// Names returns the templates' names.
func Names() []string {
	var names []string
	for _, t := range templates {
		names = append(names, t.Name)
	}
	return names
}

// Vars are the variables of one project:
//
//	name    the project's name (default: DIR's base name)
//	module  the Go module path (default: example.com/NAME)
//	host    the address the server listens on (default: 127.0.0.1)
//	port    its port (default: 8080)
//	dir     DIR as an absolute path (set by Create)
//
// plus the template's own (Template.Vars).
type Vars map[string]string

// Options say what Create writes.
type Options struct {
	Template string // a template's name (required)
	Dir      string // the project directory (required)
	Vars     Vars   // overrides of the defaults; a name no template knows is an error
	// Force writes into a directory that is not empty, replacing the
	// files the template has.
	Force bool
}

// nameRe is compiled on first use, not at start: every gopaste process
// links this package, most never creates a project.
var nameRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
})

// defaultName makes a project name of a directory's name: characters
// other than letters, digits, - and _ become -, and a name that does
// not start with a letter gets "site" before it ("001" is "site001").
func defaultName(base string) string {
	b := []byte(base)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	name := string(b)
	if !nameRe().MatchString(name) {
		name = "site" + name
	}
	return name
}

// Create writes the template into o.Dir (made if missing) and returns
// the paths written, relative to it. It refuses a directory that is not
// empty unless o.Force is set, and writes nothing when a variable is
// unknown or a file does not render.
func Create(o Options) ([]string, error) {
	t, ok := Lookup(o.Template)
	if !ok {
		return nil, fmt.Errorf("skeleton: no template %q (%s)", o.Template, strings.Join(Names(), ", "))
	}
	if o.Dir == "" {
		return nil, errors.New("skeleton: no directory")
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("skeleton: %w", err)
	}
	vars, err := t.vars(abs, o.Vars)
	if err != nil {
		return nil, err
	}
	if !o.Force {
		ents, err := os.ReadDir(abs)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("skeleton: %w", err)
		}
		if len(ents) > 0 {
			return nil, fmt.Errorf("skeleton: %s is not empty (--force writes into it)", abs)
		}
	}
	out, err := t.render(vars)
	if err != nil {
		return nil, err
	}
	var written []string
	for _, f := range out {
		p := filepath.Join(abs, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, fmt.Errorf("skeleton: %w", err)
		}
		if err := os.WriteFile(p, f.data, f.mode); err != nil {
			return written, fmt.Errorf("skeleton: %w", err)
		}
		written = append(written, f.path)
	}
	return written, nil
}

// vars returns the defaults for a project in dir with set applied.
func (t Template) vars(dir string, set Vars) (Vars, error) {
	name := defaultName(filepath.Base(dir))
	if v, ok := set["name"]; ok {
		name = v
	}
	if !nameRe().MatchString(name) {
		return nil, fmt.Errorf("skeleton: project name %q: want a letter, then letters, digits, - or _ (--var name=NAME)", name)
	}
	v := Vars{"name": name, "module": "example.com/" + strings.ToLower(name), "host": "127.0.0.1", "port": "8080", "dir": dir}
	for k, d := range t.Vars {
		v[k] = d
	}
	if _, ok := v["secret"]; ok {
		v["secret"] = rand.Text() // a new one per project
	}
	if _, ok := v["gopaste_version"]; ok {
		v["gopaste_version"] = gopasteVersion()
	}
	var unknown []string
	for k, val := range set {
		if _, ok := v[k]; !ok || k == "dir" {
			unknown = append(unknown, k)
			continue
		}
		v[k] = val
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		known := make([]string, 0, len(v))
		for k := range v {
			if k != "dir" {
				known = append(known, k)
			}
		}
		slices.Sort(known)
		return nil, fmt.Errorf("skeleton: template %s has no variable %s (it has %s)", t.Name, strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	return v, nil
}

type file struct {
	path string // slash-separated, relative to the project
	data []byte
	mode fs.FileMode
}

// render renders every file of t with vars, in memory.
func (t Template) render(vars Vars) ([]file, error) {
	root := "templates/" + t.Name
	var out []file
	err := fs.WalkDir(files, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, root+"/")
		mode := fs.FileMode(0o644)
		if path.Ext(strings.TrimSuffix(rel, ".tmpl")) == ".sh" {
			mode = 0o755
		}
		if strings.HasSuffix(rel, ".tmpl") {
			rel = strings.TrimSuffix(rel, ".tmpl")
			tp, err := template.New(rel).Option("missingkey=error").Parse(string(data))
			if err != nil {
				return fmt.Errorf("skeleton: %s: %w", p, err)
			}
			var b bytes.Buffer
			if err := tp.Execute(&b, vars); err != nil {
				return fmt.Errorf("skeleton: %s: %w", p, err)
			}
			data = b.Bytes()
		}
		out = append(out, file{rel, data, mode})
		return nil
	})
	return out, err
}

// gopasteVersion is the version of gopaste a generated go.mod requires:
// the one this binary was built from when that is a release ("go
// install github.com/gopaste/gopaste/cmd/gopaste@v1.2.0"), else a
// placeholder that "go get github.com/gopaste/gopaste@latest" (or a
// replace directive, --var gopaste_replace=DIR) settles.
func gopasteVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path == "github.com/gopaste/gopaste" &&
		strings.HasPrefix(bi.Main.Version, "v") && !strings.Contains(bi.Main.Version, "+") {
		return bi.Main.Version
	}
	return "v0.0.0-00010101000000-000000000000"
}
