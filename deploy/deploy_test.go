package deploy_test

import (
	"bytes"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	_ "github.com/gopaste/gopaste/apps/cascade"
	_ "github.com/gopaste/gopaste/apps/env"
	_ "github.com/gopaste/gopaste/apps/static"
	_ "github.com/gopaste/gopaste/apps/urlmap"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
	_ "github.com/gopaste/gopaste/server"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testRegistry is registry.Default plus two filters that tag responses,
// so that chains show their order.
func testRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	r := registrytest.Copy(t, registry.Default)
	tag := func(c *registry.Config) (func(http.Handler) http.Handler, error) {
		name := c.Required("name")
		return func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("X-Tag", name)
				h.ServeHTTP(w, r)
			})
		}, c.Err()
	}
	if err := r.AddFilter("tag", tag, "adds X-Tag: name", "egg:Test#tag"); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCheckGolden loads each testdata/check/*.txtar (its files are written
// to a temp dir; the first .ini is the config) and compares what "gopaste
// check" would print, or the errors, with the archive's "want" file.
// Requests listed in a "requests" file ("GET /path -> 200 X-Tag=a,b
// body~substring") run through the main app.
func TestCheckGolden(t *testing.T) {
	goldenChecks(t, "testdata/check/*.txtar", 10, testRegistry)
}

// goldenChecks runs the check golden files matching pattern (at least
// min of them) with the registry reg makes; $DIR in a requests line is
// the archive's temporary directory.
func goldenChecks(t *testing.T, pattern string, min int, reg func(*testing.T) *registry.Registry) {
	files, _ := filepath.Glob(pattern)
	if len(files) < min {
		t.Fatalf("only %d golden cases", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var config, want, requests string
			var wantIdx = -1
			for i, f := range ar.Files {
				switch f.Name {
				case "want":
					want, wantIdx = string(f.Data), i
					continue
				case "requests":
					requests = string(f.Data)
					continue
				}
				p := filepath.Join(dir, f.Name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				if config == "" && strings.HasSuffix(f.Name, ".ini") {
					config = p
				}
			}
			reg := reg(t)
			got := checkOutput(t, config, reg)
			got = strings.ReplaceAll(got, dir, "$DIR")
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Errorf("check output differs (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", got, want)
			}
			runRequests(t, config, reg, strings.ReplaceAll(requests, "$DIR", dir))
		})
	}
}

func checkOutput(t *testing.T, config string, reg *registry.Registry) string {
	var b bytes.Buffer
	rep, err := deploy.Check(config, deploy.Options{Registry: reg, Logger: discard()})
	if err != nil {
		b.WriteString("load error: " + err.Error() + "\n")
		return b.String()
	}
	for _, n := range rep.Trees {
		deploy.Fprint(&b, n)
	}
	for _, w := range rep.Warnings {
		b.WriteString("warning: " + w.String() + "\n")
	}
	for _, e := range rep.Errs {
		b.WriteString("error: " + e.Error() + "\n")
	}
	return b.String()
}

var reqLine = regexp.MustCompile(`^(\w+) (\S+) -> (\d{3})((?: \S+)*)$`)

func runRequests(t *testing.T, config string, reg *registry.Registry, spec string) {
	if strings.TrimSpace(spec) == "" {
		return
	}
	app, err := deploy.BuildApp(config, "main", deploy.Options{Registry: reg, Logger: discard()})
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	defer app.Close()
	for _, line := range strings.Split(strings.TrimSpace(spec), "\n") {
		m := reqLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			t.Fatalf("bad request line %q", line)
		}
		r := httptest.NewRequest(m[1], m[2], nil)
		w := httptest.NewRecorder()
		app.Handler.ServeHTTP(w, r)
		if got := w.Code; got != atoi(m[3]) {
			t.Errorf("%s %s: status %d, want %s", m[1], m[2], got, m[3])
		}
		for _, cond := range strings.Fields(m[4]) {
			switch {
			case strings.HasPrefix(cond, "body~"):
				// JSON is compared without the space after a colon.
				body := strings.ReplaceAll(w.Body.String(), "\": ", "\":")
				if s := strings.TrimPrefix(cond, "body~"); !strings.Contains(body, s) {
					t.Errorf("%s %s: body lacks %q:\n%s", m[1], m[2], s, w.Body.String())
				}
			case strings.Contains(cond, "="):
				k, v, _ := strings.Cut(cond, "=")
				if got := strings.Join(w.Header().Values(k), ","); got != v {
					t.Errorf("%s %s: header %s = %q, want %q", m[1], m[2], k, got, v)
				}
			}
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestBuildAppErrorsAreAllReported(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.ini")
	os.WriteFile(p, []byte(`[composite:main]
use = urlmap
/a = one
/b = two

[app:one]
use = static
document_root = /
levle = 3

[app:two]
use = nosuchpart
`), 0o644)
	_, err := deploy.BuildApp(p, "", deploy.Options{Registry: testRegistry(t), Logger: discard()})
	if err == nil {
		t.Fatal("no error")
	}
	var de *deploy.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %T is not *deploy.Error", err)
	}
	msg := err.Error()
	for _, want := range []string{`bad.ini:9: [app:one]: unknown key "levle" for app "static"`, `bad.ini:12: [app:two]: key "use": unknown app "nosuchpart"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
}

func TestConfigFromReachesTheApp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.ini")
	os.WriteFile(p, []byte("[DEFAULT]\ndb = x\n\n[app:main]\nuse = probe\ncolour = blue\n"), 0o644)
	reg := testRegistry(t)
	var seen *deploy.RequestConfig
	reg.AddApp("probe", func(c *registry.Config) (http.Handler, error) {
		c.String("colour", "")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = deploy.ConfigFrom(r.Context())
		}), nil
	}, "test")
	app, err := deploy.BuildApp(p, "", deploy.Options{Registry: reg, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	app.Handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if seen == nil {
		t.Fatal("ConfigFrom returned nil inside the app")
	}
	if seen.Global["db"] != "x" || seen.Local["colour"] != "blue" || seen.Global["here"] != dir {
		t.Errorf("config = %+v", seen)
	}
}

func discard() *slogLogger { return newDiscard() }

type closeRecorder struct {
	name string
	log  *[]string
}

func (c closeRecorder) Close() error { *c.log = append(*c.log, c.name); return nil }

// TestPartsClosedInReverseOrder: resources parts register are closed last
// first, both when the built app is closed and when a build fails.
func TestPartsClosedInReverseOrder(t *testing.T) {
	var closed []string
	reg := testRegistry(t)
	reg.AddApp("holder", func(c *registry.Config) (http.Handler, error) {
		name := c.Required("name")
		c.OnClose(closeRecorder{name, &closed})
		if c.Bool("fail", false) {
			return nil, c.Errorf("fail", "asked to fail")
		}
		return http.NotFoundHandler(), c.Err()
	}, "test")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.ini")
	os.WriteFile(good, []byte("[composite:main]\nuse = urlmap\n/a = a\n/b = b\n\n[app:a]\nuse = holder\nname = first\n\n[app:b]\nuse = holder\nname = second\n"), 0o644)
	app, err := deploy.BuildApp(good, "", deploy.Options{Registry: reg, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	if len(closed) != 0 {
		t.Fatalf("closed while in use: %v", closed)
	}
	app.Close()
	app.Close() // idempotent
	if strings.Join(closed, ",") != "second,first" {
		t.Errorf("close order %v, want second,first", closed)
	}

	closed = nil
	bad := filepath.Join(dir, "bad.ini")
	os.WriteFile(bad, []byte("[composite:main]\nuse = urlmap\n/a = a\n/b = b\n/c = c\n\n[app:a]\nuse = holder\nname = first\n\n[app:b]\nuse = holder\nname = second\n\n[app:c]\nuse = holder\nname = third\nfail = true\n"), 0o644)
	if _, err := deploy.BuildApp(bad, "", deploy.Options{Registry: reg, Logger: discard()}); err == nil {
		t.Fatal("build did not fail")
	}
	if strings.Join(closed, ",") != "third,second,first" {
		t.Errorf("after a failed build closed %v, want third,second,first", closed)
	}
}

// TestIncludedFileShownAsWritten (issue 13): an included file is named in
// messages relative to where the including file is named from, as the
// user wrote it, not by its absolute path.
func TestIncludedFileShownAsWritten(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "site.ini"), []byte("[composite:main]\nuse = urlmap\n/w = config:sub/apps.ini#wiki\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "apps.ini"), []byte("[app:wikki]\nuse = env\n"), 0o644)
	t.Chdir(dir)
	rep, err := deploy.Check("site.ini", deploy.Options{Registry: testRegistry(t), Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	want := `site.ini:3: [composite:main]: key "/w": no app section "wiki" in sub/apps.ini: looked for [app:wiki], [application:wiki], [composite:wiki], [pipeline:wiki], [filter-app:wiki]; did you mean [app:wikki]?`
	if len(rep.Errs) != 1 || rep.Errs[0].Error() != want {
		t.Errorf("errors = %v\nwant %s", rep.Errs, want)
	}
}
