package skeleton

import (
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every template renders with its defaults, and what it writes is
// well-formed: Go files are gofmt'ed, nothing says "<no value>".
func TestEveryTemplateRenders(t *testing.T) {
	for _, tp := range List() {
		t.Run(tp.Name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "proj")
			written, err := Create(Options{Template: tp.Name, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if len(written) < 2 {
				t.Errorf("wrote %v", written)
			}
			for _, p := range written {
				b, err := os.ReadFile(filepath.Join(dir, p))
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(p, ".tmpl") || strings.Contains(string(b), "<no value>") {
					t.Errorf("%s: not rendered", p)
				}
				if strings.HasSuffix(p, ".go") {
					if f, err := format.Source(b); err != nil || string(f) != string(b) {
						t.Errorf("%s is not gofmt'ed (%v)", p, err)
					}
				}
			}
		})
	}
}

func TestVars(t *testing.T) {
	tp, _ := Lookup("goapp")
	v, err := tp.vars("/srv/My Site", Vars{"port": "9000"})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"name": "My-Site", "module": "example.com/my-site", "port": "9000", "host": "127.0.0.1", "dir": "/srv/My Site"} {
		if v[k] != want {
			t.Errorf("%s = %q, want %q", k, v[k], want)
		}
	}
	if len(v["secret"]) < 16 {
		t.Errorf("secret = %q, want a random one", v["secret"])
	}
	if v2, _ := tp.vars("/srv/x", nil); v2["secret"] == v["secret"] {
		t.Errorf("two projects got the same secret")
	}
	for _, tc := range []struct {
		dir  string
		set  Vars
		want string
	}{
		{"/srv/x", Vars{"dir": "/etc"}, "has no variable dir"},
		{"/srv/x", Vars{"php_fpm": "x"}, "template goapp has no variable php_fpm"},
		{"/srv/x", Vars{"name": "1x"}, `project name "1x"`},
		{"/srv/x", Vars{"name": ""}, `project name ""`},
	} {
		if _, err := tp.vars(tc.dir, tc.set); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("vars(%q, %v) = %v, want %q", tc.dir, tc.set, err, tc.want)
		}
	}
}

func TestDefaultName(t *testing.T) {
	for in, want := range map[string]string{"blog": "blog", "my.site": "my-site", "001": "site001", "-x": "site-x", "é": "site--"} {
		if got := defaultName(in); got != want {
			t.Errorf("defaultName(%q) = %q, want %q", in, got, want)
		}
	}
}

// docs/create.md shows the static skeleton's site.ini as it is (and
// its docs test serves it): the two stay the same, comments aside.
func TestDocsShowStaticINI(t *testing.T) {
	doc, err := os.ReadFile("../docs/create.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "## static")
	if _, block, ok = strings.Cut(block, "```ini\n"); !ok {
		t.Fatal("no ```ini block under ## static in docs/create.md")
	}
	block, _, _ = strings.Cut(block, "```")
	dir := filepath.Join(t.TempDir(), "mysite")
	if _, err := Create(Options{Template: "static", Dir: dir}); err != nil {
		t.Fatal(err)
	}
	ini, err := os.ReadFile(filepath.Join(dir, "site.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := settings(block), settings(string(ini)); got != want {
		t.Errorf("docs/create.md shows\n%s\nthe skeleton writes\n%s", got, want)
	}
}

// settings drops comments and blank lines.
func settings(ini string) string {
	var b strings.Builder
	for _, line := range strings.Split(ini, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
