package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/registry"
)

// recorder is a part's resource: it notes its Close and Reopen calls.
type recorder struct {
	name string
	log  *[]string
}

func (r recorder) Close() error  { *r.log = append(*r.log, "close "+r.name); return nil }
func (r recorder) Reopen() error { *r.log = append(*r.log, "reopen "+r.name); return nil }

type nopServer struct{ stdout bool }

func (nopServer) Run(ctx context.Context, h http.Handler) error { return nil }

// genRegistry has an app and a server whose factories register closers
// and watched files, as real parts do.
func genRegistry(t *testing.T, log *[]string) *registry.Registry {
	t.Helper()
	reg := testRegistry(t)
	reg.AddApp("probe", func(c *registry.Config) (http.Handler, error) {
		c.OnClose(recorder{"app", log})
		c.Watch(c.Path("watch", "app.txt"))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("probe")) }), c.Err()
	}, "test app")
	reg.AddServer("probe", func(c *registry.Config) (registry.Server, error) {
		c.OnClose(recorder{"server", log})
		c.Watch(c.Path("cert", "cert.pem"))
		c.String("port", "")
		return nopServer{stdout: c.Stdout != nil}, c.Err()
	}, "test server")
	return reg
}

func writeIni(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "site.ini")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadKeepsServerWatchAndClose: one Load builds the server and the
// app (in that order: the server may decide how the app is built, see
// TestLoadAppCheckOnly); the server factory's watched files and close
// hook are kept with the app's, Reopen reaches both, and Close runs both
// in reverse order of creation.
func TestLoadKeepsServerWatchAndClose(t *testing.T) {
	var log []string
	p := writeIni(t, "[app:main]\nuse = probe\n\n[server:main]\nuse = probe\nport = 1\n")
	g, err := deploy.Load(p, "", "", deploy.Options{Registry: genRegistry(t, &log), Logger: discard(), Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	for _, f := range []string{p, filepath.Join(dir, "app.txt"), filepath.Join(dir, "cert.pem")} {
		if !slices.Contains(g.Files, f) {
			t.Errorf("Files = %q, lacks %s", g.Files, f)
		}
	}
	if !g.Server.(nopServer).stdout {
		t.Error("the server factory did not get Options.Stdout")
	}
	if g.DefaultServer {
		t.Error("DefaultServer with a [server:main]")
	}
	if err := g.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	g.Close()
	want := []string{"reopen server", "reopen app", "close app", "close server"}
	if !slices.Equal(log, want) {
		t.Errorf("calls = %q, want %q", log, want)
	}
}

// TestLoadAppCheckOnly: with Options.AppCheckOnly the file is read and
// built once; the server is built as it is served, and its answer says
// whether the app is built check-only (a prefork master's, whose process
// and wsgi apps must start nothing). A server that fails leaves every
// other section built check-only, for its errors alone.
func TestLoadAppCheckOnly(t *testing.T) {
	for _, tc := range []struct {
		name      string
		server    string
		answer    bool
		wantApp   bool // the app's CheckOnly
		wantAsked bool
		wantErr   bool
	}{
		{"master", "use = probe", true, true, true, false},
		{"serving", "use = probe", false, false, true, false},
		{"server fails", "use = probe\nfail = yes", false, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := testRegistry(t)
			var appCheck, serverCheck []bool
			reg.AddApp("probe", func(c *registry.Config) (http.Handler, error) {
				appCheck = append(appCheck, c.CheckOnly)
				return http.NotFoundHandler(), c.Err()
			}, "test app")
			reg.AddServer("probe", func(c *registry.Config) (registry.Server, error) {
				serverCheck = append(serverCheck, c.CheckOnly)
				if c.Bool("fail", false) {
					return nil, errors.New("told to fail")
				}
				return nopServer{}, c.Err()
			}, "test server")
			p := writeIni(t, "[app:main]\nuse = probe\n\n[server:main]\n"+tc.server+"\n")
			reads := 0
			asked := false
			o := deploy.Options{Registry: reg, Logger: discard(),
				ReadFile: func(path string) ([]byte, error) { reads++; return os.ReadFile(path) },
				AppCheckOnly: func(srv registry.Server) bool {
					if _, ok := srv.(nopServer); !ok {
						t.Errorf("asked with %T", srv)
					}
					asked = true
					return tc.answer
				}}
			g, err := deploy.Load(p, "", "", o)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Load error %v, want an error %v", err, tc.wantErr)
			}
			if g != nil {
				defer g.Close()
			}
			if reads != 1 || asked != tc.wantAsked {
				t.Errorf("file read %d times, asked %v; want once, asked %v", reads, asked, tc.wantAsked)
			}
			if !slices.Equal(serverCheck, []bool{false}) || !slices.Equal(appCheck, []bool{tc.wantApp}) {
				t.Errorf("CheckOnly: server %v, app %v; want [false], [%v]", serverCheck, appCheck, tc.wantApp)
			}
		})
	}
}

// TestLoadFailureClosesAndReportsAll: when the server does not build,
// the app already built is closed, and the error lists every error of the
// file, as Check does, including sections the app does not use.
func TestLoadFailureClosesAndReportsAll(t *testing.T) {
	var log []string
	p := writeIni(t, `[app:main]
use = probe

[app:unused]
use = nosuchapp

[filter:f]
use = tag

[server:main]
use = probe
colour = red
log_level = loud
`)
	reg := genRegistry(t, &log)
	_, err := deploy.Load(p, "", "", deploy.Options{Registry: reg, Logger: discard()})
	var de *deploy.Error
	if !errors.As(err, &de) {
		t.Fatalf("Load error = %v, want a *deploy.Error", err)
	}
	rep, cerr := deploy.Check(p, deploy.Options{Registry: reg, Logger: discard()})
	if cerr != nil {
		t.Fatal(cerr)
	}
	var got, want []string
	for _, e := range de.Errs {
		got = append(got, e.Error())
	}
	for _, e := range rep.Errs {
		want = append(want, e.Error())
	}
	slices.Sort(got)
	slices.Sort(want)
	if len(want) != 4 || !slices.Equal(got, want) {
		t.Errorf("Load errors:\n%s\nCheck errors:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Contains(log, "close app") {
		t.Errorf("the app built before the failure was not closed: %q", log)
	}
}

// TestLoadServerKeysAndLog: Options.ServerKeys override the section
// (gopaste serve --port), and the log keys come from the server section,
// else [DEFAULT].
func TestLoadServerKeysAndLog(t *testing.T) {
	var log []string
	reg := genRegistry(t, &log)
	p := writeIni(t, "[DEFAULT]\nlog_format = json\n\n[app:main]\nuse = probe\n\n[server:main]\nuse = probe\nport = 1\nlog_level = warn\nlog_file = logs/error.log\n")
	g, err := deploy.Load(p, "", "", deploy.Options{Registry: reg, Logger: discard(),
		ServerKeys: []registry.Entry{{Key: "port", Value: "2", Origin: "--port"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	want := deploy.LogConfig{Level: "warn", Format: "json", File: filepath.Join(filepath.Dir(p), "logs/error.log"),
		FileOrigin: p + ":11"}
	if g.Log != want {
		t.Errorf("Log = %+v, want %+v", g.Log, want)
	}
	if i := slices.IndexFunc(g.ServerNode.Local, func(e registry.Entry) bool { return e.Key == "port" }); i < 0 ||
		g.ServerNode.Local[i] != (registry.Entry{Key: "port", Value: "2", Origin: "--port"}) {
		t.Errorf("server keys = %+v, want port from --port", g.ServerNode.Local)
	}
}

// TestLoadDefaultServer: a file without [server:main] is served by the
// http server with its defaults; a missing named server is an error.
func TestLoadDefaultServer(t *testing.T) {
	p := writeIni(t, "[app:main]\nuse = env\n")
	g, err := deploy.Load(p, "", "", deploy.Options{Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if !g.DefaultServer || g.ServerNode.Part != "http" {
		t.Errorf("DefaultServer = %v, part %q", g.DefaultServer, g.ServerNode.Part)
	}
	w := httptest.NewRecorder()
	g.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if !strings.Contains(w.Body.String(), `"PATH_INFO": "/x"`) {
		t.Errorf("app answered %q", w.Body)
	}
	if _, err := deploy.Load(p, "", "other", deploy.Options{Logger: discard()}); err == nil || !strings.Contains(err.Error(), "[server:other]") {
		t.Errorf("missing server section: %v", err)
	}
}

// TestLoadSharesThroughPool: a value a part keeps with registry.Shared
// is the same in the next generation when both loads get one Pool.
func TestLoadSharesThroughPool(t *testing.T) {
	reg := testRegistry(t)
	made := 0
	reg.AddApp("counter", func(c *registry.Config) (http.Handler, error) {
		n, err := registry.Shared(c, "n", func() (*int, error) { made++; return new(int), nil })
		if err != nil {
			return nil, err
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { *n++ }), nil
	}, "test")
	p := writeIni(t, "[app:main]\nuse = counter\n")
	o := deploy.Options{Registry: reg, Logger: discard(), Pool: new(registry.Pool)}
	g1, err := deploy.Load(p, "", "", o)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := deploy.Load(p, "", "", o)
	if err != nil {
		t.Fatal(err)
	}
	g1.Close()
	defer g2.Close()
	if made != 1 {
		t.Errorf("the shared value was made %d times over a reload, want 1", made)
	}
}

// TestLoadStartsOnceBuilt: what parts register with registry.Config.OnStart
// runs only once the whole config has built, in build order; a config
// with an error anywhere starts nothing; a start that fails fails the
// load and closes every part; files a start declares are watched;
// check-only builds start nothing.
func TestLoadStartsOnceBuilt(t *testing.T) {
	var log []string
	reg := testRegistry(t)
	reg.AddApp("starter", func(c *registry.Config) (http.Handler, error) {
		name := c.Required("name")
		fail := c.Bool("fail", false)
		log = append(log, "build "+name)
		c.OnClose(closeRecorder{name: "close " + name, log: &log})
		c.OnStart(func() error {
			log = append(log, "start "+name)
			// A closer registered while starting is closed too.
			c.OnClose(closeRecorder{name: "stop " + name, log: &log})
			if fail {
				return c.Errorf("fail", "%s could not start", name)
			}
			c.Watch(filepath.Join(c.Here, name+".py"))
			return nil
		})
		return http.NotFoundHandler(), nil
	}, "test")
	o := deploy.Options{Registry: reg, Logger: discard()}
	const two = "[composite:main]\nuse = urlmap\n/ = a\n/b = b\n\n[app:a]\nuse = starter\nname = a\n\n[app:b]\nuse = starter\nname = b\n"

	g, err := deploy.Load(writeIni(t, two), "", "", o)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"build a", "build b", "start a", "start b"}; !slices.Equal(log, want) {
		t.Errorf("calls = %q, want %q", log, want)
	}
	if !slices.ContainsFunc(g.Files, func(f string) bool { return strings.HasSuffix(f, "/b.py") }) {
		t.Errorf("Files = %q, lacks b.py, watched by its start", g.Files)
	}
	log = nil
	g.Close()
	if want := []string{"stop b", "stop a", "close b", "close a"}; !slices.Equal(log, want) {
		t.Errorf("closing: calls = %q, want %q", log, want)
	}

	log = nil
	broken := strings.Replace(two, "/b = b\n", "/b = b\n/c = c\n", 1) + "\n[app:c]\nuse = starter\n"
	_, err = deploy.Load(writeIni(t, broken), "", "", o)
	if err == nil || !strings.Contains(err.Error(), `[app:c]: key "name"`) {
		t.Fatalf("a broken sibling: %v", err)
	}
	if slices.ContainsFunc(log, func(s string) bool { return strings.HasPrefix(s, "start") }) {
		t.Errorf("calls = %q: a part started in a config that did not build", log)
	}

	log = nil
	_, err = deploy.Load(writeIni(t, two+"fail = true\n"), "", "", o)
	if err == nil || !strings.Contains(err.Error(), `key "fail": b could not start`) {
		t.Fatalf("a failing start: %v", err)
	}
	if want := []string{"build a", "build b", "start a", "start b", "stop b", "stop a", "close b", "close a"}; !slices.Equal(log, want) {
		t.Errorf("calls = %q, want %q", log, want)
	}

	log = nil
	rep, err := deploy.Check(writeIni(t, two), o)
	if err != nil || len(rep.Errs) > 0 {
		t.Fatalf("Check: %v %v", err, rep.Errs)
	}
	if slices.ContainsFunc(log, func(s string) bool { return strings.HasPrefix(s, "start") }) {
		t.Errorf("calls = %q: check started a part", log)
	}
}
