package partdoc

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

var pages = fstest.MapFS{
	"a.md": {Data: []byte("# Apps: static, cgi\n\nIntro.\n\n" +
		"## static\n\nServes `files`\nfrom [a dir](x.md).\n\n" +
		"| key | default | meaning |\n|---|---|---|\n" +
		"| `document_root` | (required) | the directory |\n" +
		"| `cert_file`, `key_file` | none | PEM \\| pair |\n" +
		"| `rule N` | | `REGEX TARGET` |\n\n" +
		"```ini\n## static\n```\n\n" +
		"### App `cgi`\n\n| key | meaning |\n|---|---|\n| `script = PATH` | the program |\n\n" +
		"### Server `cgi`\n\nTakes no keys.\n\n" +
		"## uwsgi\n\nThe protocol.\n\n" +
		"### Server `uwsgi`\n\nIt takes the [keys every\nserver takes](b.md#shared-keys) and [a page](b.md#other).\n\n" +
		"| key | default | meaning |\n|:--|--:|---|\n| `modifier1` | `0` | the modifier |\n")},
	"b.md": {Data: []byte("# B\n\n## Shared keys\n\n| key | default | meaning |\n|---|---|---|\n| `host` | `127.0.0.1` | where |\n\n" +
		"## Other\n\n| key | default | meaning |\n|---|---|---|\n| `nope` | | not a keys link |\n\n" +
		"### The waitress server: `use = egg:waitress#main`\n\n| waitress key | gopaste |\n|---|---|\n| `listen` | `host` and `port` |\n")},
	"c.md": {Data: []byte("# The wsgi app: Python\n\n`wsgi` runs Python.\n\n## Keys of the `wsgi` app\n\n| key | meaning |\n|---|---|\n| `module` | the callable |\n")},
}

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		names []string
		want  Section
		ok    bool
	}{
		{"app", []string{"static"}, Section{Page: "a.md", Heading: "static", Anchor: "static", Summary: "Serves files from a dir.",
			Tables: []Table{{Page: "a.md", Heading: "static", Anchor: "static", HasDefault: true, Keys: []Key{
				{Text: "document_root", Names: []string{"document_root"}, Default: "(required)", Meaning: "the directory"},
				{Text: "cert_file, key_file", Names: []string{"cert_file", "key_file"}, Default: "none", Meaning: "PEM | pair"},
				{Text: "rule N", Names: []string{"rule N"}, Meaning: "REGEX TARGET"},
			}}}}, true},
		// A kind word picks one of two parts of one name; a two-column
		// table has no defaults; "= PATH" is syntax.
		{"app", []string{"cgi"}, Section{Page: "a.md", Heading: "App `cgi`", Anchor: "app-cgi",
			Tables: []Table{{Page: "a.md", Heading: "App `cgi`", Anchor: "app-cgi", Keys: []Key{{Text: "script = PATH", Names: []string{"script"}, Meaning: "the program"}}}}}, true},
		{"server", []string{"cgi"}, Section{Page: "a.md", Heading: "Server `cgi`", Anchor: "server-cgi", Summary: "Takes no keys."}, true},
		// The kind-qualified heading beats the plain one; the keys link
		// (across lines) adds its table, the other link does not.
		{"server", []string{"uwsgi"}, Section{Page: "a.md", Heading: "Server `uwsgi`", Anchor: "server-uwsgi",
			Summary: "It takes the keys every server takes and a page.",
			Tables: []Table{
				{Page: "a.md", Heading: "Server `uwsgi`", Anchor: "server-uwsgi", HasDefault: true, Keys: []Key{{Text: "modifier1", Names: []string{"modifier1"}, Default: "0", Meaning: "the modifier"}}},
				{Page: "b.md", Heading: "Shared keys", Anchor: "shared-keys", HasDefault: true, Keys: []Key{{Text: "host", Names: []string{"host"}, Default: "127.0.0.1", Meaning: "where"}}},
			}}, true},
		// An alias names the part; "waitress key" tables count.
		{"server", []string{"waitress", "egg:waitress#main"}, Section{Page: "b.md", Heading: "The waitress server: `use = egg:waitress#main`", Anchor: "the-waitress-server-use--eggwaitressmain",
			Tables: []Table{{Page: "b.md", Heading: "The waitress server: `use = egg:waitress#main`", Anchor: "the-waitress-server-use--eggwaitressmain",
				Keys: []Key{{Text: "listen", Names: []string{"listen"}, Meaning: "host and port"}}}}}, true},
		// A section starting with its table takes the page's paragraph.
		{"app", []string{"wsgi"}, Section{Page: "c.md", Heading: "Keys of the `wsgi` app", Anchor: "keys-of-the-wsgi-app", Summary: "wsgi runs Python.",
			Tables: []Table{{Page: "c.md", Heading: "Keys of the `wsgi` app", Anchor: "keys-of-the-wsgi-app", Keys: []Key{{Text: "module", Names: []string{"module"}, Meaning: "the callable"}}}}}, true},
		// A page title is no part's section, nor is a heading in a block.
		{"filter", []string{"cgi"}, Section{}, false},
		{"app", []string{"nothing"}, Section{}, false},
	} {
		got, ok := Find(pages, tc.kind, tc.names...)
		if ok != tc.ok {
			t.Errorf("Find(%s %v) ok = %v, want %v", tc.kind, tc.names, ok, tc.ok)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Find(%s %v) (-want +got):\n%s", tc.kind, tc.names, diff)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		want      bool
	}{
		{"rule N", "rule 10", true},
		{"rule N", "rules 1", false},
		{"env NAME", "env PATH", true},
		{"env NAME", "env", false},
		{"/PREFIX", "/docs", true},
		{"/PREFIX", "docs", false},
		{"domain HOST /PREFIX", "domain example.org /", true},
		{"host", "host", true},
		{"host", "port", false},
	} {
		if got := (Key{Names: []string{tc.name}}).Matches(tc.key); got != tc.want {
			t.Errorf("Key %q Matches(%q) = %v, want %v", tc.name, tc.key, got, tc.want)
		}
	}
}

func TestAnchor(t *testing.T) {
	for in, want := range map[string]string{
		"Keys every listening server takes": "keys-every-listening-server-takes",
		"Proxy apps (shared keys)":          "proxy-apps-shared-keys",
		"App `fastcgi_proxy`":               "app-fastcgi_proxy",
	} {
		if got := Anchor(in); got != want {
			t.Errorf("Anchor(%q) = %q, want %q", in, got, want)
		}
	}
}
