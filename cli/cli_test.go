package cli_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/docs"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/partdoc"
	"github.com/gopaste/gopaste/registry"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(&cli.Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader("")}, args)
	return code, out.String(), errb.String()
}

func config(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "site.ini")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const site = `[DEFAULT]
owner = ops

[composite:main]
use = urlmap
/api = api
/ = root

[pipeline:api]
pipeline = tagger app

[filter:tagger]
use = headers
replace X-Served-By = gopaste

[app:app]
use = env
colour = blue

[app:root]
use = text
body = root page
`

func TestRequestPrintsRawResponse(t *testing.T) {
	cfg := config(t, site)
	code, out, errs := run(t, "request", cfg, "/api/things?x=1", "-X", "PUT", "-d", "a=b", "-H", "X-Test: yes")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"HTTP/1.1 200 OK\r\n", "Content-Type: application/json\r\n", "\r\n\r\n{", `"REQUEST_METHOD": "PUT"`, `"SCRIPT_NAME": "/api"`, `"PATH_INFO": "/things"`, `"HTTP_X_TEST": "yes"`, `"body": "a=b"`, `"owner": "ops"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A 404 is a completed response: exit 0.
	cfg2 := config(t, "[app:main]\nuse = text\nstatus = 404\nbody = gone\n")
	if code, out, _ := run(t, "request", cfg2, "/x"); code != 0 || !strings.HasPrefix(out, "HTTP/1.1 404 Not Found\r\n") {
		t.Errorf("404: exit %d\n%s", code, out)
	}
}

func TestRoute(t *testing.T) {
	cfg := config(t, site)
	code, out, errs := run(t, "route", cfg, "/api/v1/x")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"[composite:main] composite urlmap", "mount /api -> api", "[pipeline:api] pipeline", "filter [filter:tagger]", "[app:app] app env", `SCRIPT_NAME="/api" PATH_INFO="/v1/x"`} {
		if !strings.Contains(out, want) {
			t.Errorf("route lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = run(t, "route", cfg, "/other")
	if !strings.Contains(out, "[app:root] app text") || !strings.Contains(out, `PATH_INFO="/other"`) {
		t.Errorf("route to root:\n%s", out)
	}
}

func TestCheck(t *testing.T) {
	code, out, errs := run(t, "check", config(t, site))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "owner = ops  ([DEFAULT]") || !strings.Contains(out, "colour = blue  (") {
		t.Errorf("check output:\n%s", out)
	}
	bad := config(t, "[app:main]\nuse = static\nlevle = 1\n\n[app:other]\nuse = nothing\n")
	code, _, errs = run(t, "check", bad)
	if code != 1 {
		t.Errorf("check of a bad config exited %d", code)
	}
	for _, want := range []string{`unknown key "levle"`, `key "document_root": is required`, `unknown app "nothing"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors lack %q:\n%s", want, errs)
		}
	}
}

func TestListings(t *testing.T) {
	for cmd, want := range map[string][]string{
		"apps":    {"static", "egg:Paste#static", "urlmap (composite)", "env"},
		"filters": {"headers"},
		"servers": {"http", "egg:Paste#http", "console"},
	} {
		code, out, _ := run(t, cmd)
		if code != 0 {
			t.Errorf("%s exited %d", cmd, code)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("gopaste %s lacks %q:\n%s", cmd, w, out)
			}
		}
	}
}

// TestDescribePart (issue 13): "gopaste apps NAME" and friends describe
// one part; a name of another kind or a near miss says so.
func TestDescribePart(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"apps", "static"}, 0, []string{"static (app)\n", "aliases: egg:Paste#static", "[app:NAME]\n    use = static\n",
			"  docs: docs/apps.md#static\n    static (alias egg:Paste#static) serves files",
			"  keys (docs/apps.md, \"static\"):\n    key            default     meaning\n    document_root  (required)  the directory to serve;"}},
		// App and server cgi are two parts; a two-column table; a
		// section without a table; keys shared through a link.
		{[]string{"apps", "cgi"}, 0, []string{"docs: docs/protocols.md#app-cgi\n", "    interpreter  none     the program that runs the script"}},
		{[]string{"servers", "cgi"}, 0, []string{"docs: docs/protocols.md#server-cgi\n", "  keys: none documented in docs/protocols.md, \"Server cgi\"\n"}},
		{[]string{"apps", "urlmap"}, 0, []string{"    key                        meaning\n    /PREFIX = APP              mount app APP"}},
		{[]string{"servers", "scgi"}, 0, []string{"  keys (docs/servers.md, \"Keys every listening server takes\"):\n", "    read_timeout         (see meaning)       the time to read a request; default: none"}},
		{[]string{"apps", "egg:Paste#urlmap"}, 0, []string{"urlmap (composite)\n", "[composite:NAME]\n    use = urlmap\n"}},
		{[]string{"filters", "gzip"}, 0, []string{"compress (filter)\n", "aliases: gzip"}},
		{[]string{"servers", "http", "console"}, 0, []string{"http (server)\n", "\n\nconsole (server)\n"}},
		{[]string{"apps", "statc"}, 1, []string{`gopaste: no app "statc"; did you mean static?`}},
		{[]string{"apps", "gzip"}, 1, []string{`gopaste: no app "gzip"; "gzip" is a filter (gopaste filters gzip)`}},
		{[]string{"servers", "zzzz"}, 1, []string{`gopaste: no server "zzzz"` + "\n"}},
	} {
		code, out, errs := run(t, c.args...)
		if code != c.code {
			t.Errorf("%q: exit %d, want %d\n%s", c.args, code, c.code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(out+errs, w) {
				t.Errorf("%q lacks %q:\n%s%s", c.args, w, out, errs)
			}
		}
	}
}

// TestDescribePartKeys (issue 14): "gopaste apps NAME" prints every key
// the docs table of the part lists, the table docs/keys_test.go checks
// against what the factory asks for; a part no docs section names says
// so.
func TestDescribePartKeys(t *testing.T) {
	kinds := map[registry.Kind]string{registry.App: "apps", registry.Composite: "apps", registry.Filter: "filters", registry.ServerKind: "servers"}
	tables := 0
	for k, cmd := range kinds {
		for _, p := range registry.Default.Parts(k) {
			code, out, errs := run(t, cmd, p.Name)
			if code != 0 {
				t.Errorf("gopaste %s %s: exit %d\n%s", cmd, p.Name, code, errs)
				continue
			}
			s, ok := partdoc.Find(docs.Pages, k.String(), append([]string{p.Name}, p.Aliases...)...)
			if !ok {
				if !strings.Contains(out, "keys: not in gopaste's docs") {
					t.Errorf("gopaste %s %s does not say its docs are missing:\n%s", cmd, p.Name, out)
				}
				continue
			}
			for _, tb := range s.Tables {
				tables++
				for _, key := range tb.Keys {
					if !strings.Contains(out, "\n    "+key.Text+"  ") {
						t.Errorf("gopaste %s %s lacks key %q of docs/%s:\n%s", cmd, p.Name, key.Text, tb.Page, out)
					}
				}
			}
		}
	}
	if tables < 30 {
		t.Errorf("only %d keys tables printed", tables)
	}
	reg := registry.New()
	reg.MustAdd(registry.Part{Kind: registry.App, Name: "plugin_app", App: func(*registry.Config) (http.Handler, error) { return http.NotFoundHandler(), nil }})
	var out strings.Builder
	if code := cli.Main(&cli.Env{Registry: reg, Stdout: &out, Stderr: io.Discard, Stdin: strings.NewReader("")}, []string{"apps", "plugin_app"}); code != 0 {
		t.Errorf("gopaste apps plugin_app: exit %d", code)
	}
	if !strings.Contains(out.String(), "plugin_app (app)\n") || !strings.Contains(out.String(), "  keys: not in gopaste's docs (a part of a plug-in documents its own)\n") {
		t.Errorf("a plug-in's part:\n%s", out.String())
	}
}

// TestNearMissSectionIsAnError (issue 13): serve and check refuse a
// header that is a near miss of a section type, naming the line and the
// type it probably meant, where PasteDeploy would skip it silently.
func TestNearMissSectionIsAnError(t *testing.T) {
	cfg := config(t, "[app:main]\nuse = text\nbody = hi\n\n[filtr:gz]\nuse = gzip\n\n[server:main]\nuse = console\n\n[loggers]\nkeys = root\n")
	for _, cmd := range []string{"serve", "check"} {
		code, _, errs := run(t, cmd, cfg)
		if code != 1 || !strings.Contains(errs, `site.ini:5: [filtr:gz]: unknown section type "filtr", so PasteDeploy would ignore this section; did you mean [filter:gz]?`) {
			t.Errorf("%s: exit %d\n%s", cmd, code, errs)
		}
		if strings.Contains(errs, "[loggers]: unknown") {
			t.Errorf("%s: [loggers] is no near miss:\n%s", cmd, errs)
		}
	}
}

func TestHelpAndUsage(t *testing.T) {
	for _, cmd := range []string{"serve", "check", "request", "route", "apps", "version"} {
		code, _, errs := run(t, cmd, "--help")
		if code != 0 || !strings.Contains(errs, "Usage: gopaste "+cmd) {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, errs)
		}
	}
	// issue 13: no empty "Options:" list; the command says what it does.
	if _, _, errs := run(t, "apps", "--help"); strings.Contains(errs, "Options:") || !strings.Contains(errs, "List the registered apps") {
		t.Errorf("apps --help:\n%s", errs)
	}
	if _, _, errs := run(t, "serve", "--help"); !strings.Contains(errs, "Options:") || !strings.Contains(errs, "-log-format") {
		t.Errorf("serve --help:\n%s", errs)
	}
	if code, _, _ := run(t, "bogus"); code != 2 {
		t.Errorf("unknown command exit %d", code)
	}
	// issue 13: a near miss of a command is named.
	if code, _, errs := run(t, "chek", "x.ini"); code != 2 || !strings.Contains(errs, `unknown command "chek"; did you mean check?`) {
		t.Errorf("chek: exit %d\n%s", code, errs)
	}
	// issue 13: the listings' --help says what NAME does.
	for _, cmd := range []string{"apps", "filters", "servers"} {
		if code, _, errs := run(t, cmd, "--help"); code != 0 || !strings.Contains(errs, "Usage: gopaste "+cmd+" [NAME ...]") || !strings.Contains(errs, "With NAME") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, errs)
		}
	}
	if code, _, _ := run(t); code != 2 {
		t.Errorf("no command exit %d", code)
	}
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "gopaste ") {
		t.Errorf("version: %d %q", code, out)
	}
}

func TestPrintDefaultConfigIsServable(t *testing.T) {
	code, out, _ := run(t, "serve", "--print-default-config")
	if code != 0 || !strings.Contains(out, "[server:main]") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// The printed config works as a file.
	code, _, errs := run(t, "check", config(t, out), "data_dir="+t.TempDir())
	if code != 0 {
		t.Errorf("the printed default config does not check: %s", errs)
	}
}

// TestServeWithoutServerSection serves a file that has no [server:main]
// over HTTP with the defaults, as gunicorn --paste does, and stops cleanly
// when its context ends.
func TestServeWithoutServerSection(t *testing.T) {
	cfg := config(t, "[app:main]\nuse = text\nbody = no server here\n")
	var errb logbuf.Buffer
	addr, done := serveBg(t, &cli.Env{}, &errb, cfg, "--port", "0")
	if body := getBody(t, "http://"+addr+"/"); body != "no server here" {
		t.Errorf("body %q", body)
	}
	if !strings.Contains(errb.String(), "no [server:main] section; serving HTTP") {
		t.Errorf("the default server was not logged:\n%s", errb.String())
	}
	stopServe(t, done, &errb)
}

// TestServeConsoleIsQuiet: a one-shot server (console, cgi) prints the
// response and nothing on stderr, which for CGI is a web server's log.
func TestServeConsoleIsQuiet(t *testing.T) {
	cfg := config(t, "[app:main]\nuse = text\nbody = hi\n\n[server:main]\nuse = console\nurl = /x\n")
	code, out, errs := run(t, "serve", cfg)
	if code != 0 || !strings.HasSuffix(out, "\r\n\r\nhi") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	if errs != "" {
		t.Errorf("stderr not empty: %q", errs)
	}
}
