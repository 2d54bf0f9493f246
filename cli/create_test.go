package cli_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/gopastetest"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/skeleton"
)

func TestTemplatesLists(t *testing.T) {
	code, out, errs := run(t, "templates")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errs)
	}
	for _, name := range []string{"static", "proxy", "php", "wsgi", "goapp"} {
		if !strings.Contains(out, "\n"+name+" ") && !strings.HasPrefix(out, name+" ") {
			t.Errorf("templates lacks %s:\n%s", name, out)
		}
	}
	if n := strings.Count(out, "\n"); n != len(skeleton.List()) {
		t.Errorf("%d lines for %d templates:\n%s", n, len(skeleton.List()), out)
	}
}

func TestCreateErrors(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no template", []string{"create", t.TempDir()}, 2, "want --template NAME and one DIR"},
		{"no dir", []string{"create", "--template", "static"}, 2, "want --template NAME and one DIR"},
		{"unknown template", []string{"create", "--template", "statik", t.TempDir()}, 2, `no template "statik"; did you mean static?`},
		{"unknown var", []string{"create", "--template", "static", "--var", "prot=1", t.TempDir()}, 1, "template static has no variable prot (it has host, module, name, port)"},
		{"bad var", []string{"create", "--template", "static", "--var", "port", t.TempDir()}, 2, "want NAME=VALUE"},
		{"bad name", []string{"create", "--template", "static", "--var", "name=a b", t.TempDir()}, 1, `project name "a b"`},
		{"not empty", []string{"create", "--template", "static", full}, 1, "is not empty (--force writes into it)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := run(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("code %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(full, "keep.txt")); string(b) != "mine" {
		t.Errorf("a refused create changed the directory")
	}
	if _, err := os.Stat(filepath.Join(full, "site.ini")); err == nil {
		t.Errorf("a refused create wrote site.ini")
	}
	// --force writes beside what is there.
	if code, _, errs := run(t, "create", "--template", "static", "--force", full); code != 0 {
		t.Fatalf("--force: code %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(full, "keep.txt")); string(b) != "mine" {
		t.Errorf("--force removed a file the template does not have")
	}
}

// create runs "gopaste create" into a new directory called name and
// returns its path.
func create(t *testing.T, template, name string, vars ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	args := []string{"create", "--template", template, dir}
	for _, v := range vars {
		args = append(args, "--var", v)
	}
	code, out, errs := run(t, args...)
	if code != 0 {
		t.Fatalf("create: code %d: %s", code, errs)
	}
	if !strings.Contains(out, "site.ini") && !strings.Contains(out, "development.ini") {
		t.Errorf("create did not list the files it wrote:\n%s", out)
	}
	// Every config it writes loads and builds ("gopaste check").
	inis, _ := filepath.Glob(filepath.Join(dir, "*.ini"))
	for _, ini := range inis {
		if template == "goapp" {
			break // its app is registered by its own binary
		}
		if code, _, errs := run(t, "check", ini); code != 0 {
			t.Errorf("check %s: code %d: %s", filepath.Base(ini), code, errs)
		}
	}
	return dir
}

func TestCreateStatic(t *testing.T) {
	dir := create(t, "static", "mysite", "port=9999")
	ini, _ := os.ReadFile(filepath.Join(dir, "site.ini"))
	if !strings.Contains(string(ini), "port = 9999") {
		t.Errorf("--var port=9999 did not reach site.ini:\n%s", ini)
	}
	app := gopastetest.LoadConfig(t, filepath.Join(dir, "site.ini"), "main")
	app.Header.Set("Accept-Encoding", "gzip")
	r := app.Get("/").MustStatus(200).MustHeader("Content-Encoding", "gzip").
		MustHeader("X-Content-Type-Options", "nosniff").MustHeader("Cache-Control", "no-cache")
	if r.Header.Get("Etag") == "" {
		t.Errorf("no ETag on the page")
	}
	app.Header.Del("Accept-Encoding")
	app.Get("/").MustContain("<h1>mysite</h1>")
	app.Get("/assets/style.css").MustStatus(200).MustHeader("Cache-Control", "max-age=31536000")
	app.Get("/nope.html").MustStatus(404)
}

func TestCreateProxy(t *testing.T) {
	var servers [2]*httptest.Server
	backend := func(i int) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "backend "+strconv.Itoa(i+1)+" "+r.URL.Path)
		}))
		t.Cleanup(s.Close)
		servers[i] = s
		return strings.TrimPrefix(s.URL, "http://")
	}
	dir := create(t, "proxy", "front", "backend1="+backend(0), "backend2="+backend(1))
	app := gopastetest.LoadConfig(t, filepath.Join(dir, "site.ini"), "main")
	for range 4 {
		app.Get("/x").MustStatus(200).MustContain("backend ", " /x")
	}
	// One backend gone: its requests are retried on the other.
	servers[0].Close()
	for range 4 {
		app.Get("/y").MustStatus(200).MustContain("backend 2 /y")
	}
}

// The php skeleton runs Debian's php-fpm under the process app.
func TestCreatePHP(t *testing.T) {
	fpm := peer.Require(t, "php-fpm")
	vars := []string{"php_fpm=" + fpm, "workers=2"}
	if os.Geteuid() == 0 {
		vars = append(vars, "php_user=root")
	}
	dir := create(t, "php", "phpsite", vars...)
	app := gopastetest.LoadConfig(t, filepath.Join(dir, "site.ini"), "main")
	app.Get("/?name=Ada").MustStatus(200).MustContain("Hello, Ada!", "(fpm-fcgi) ran")
	app.Get("/hello.php/a/b").MustStatus(200).MustContain("hello from /hello.php, PATH_INFO=/a/b")
	app.Get("/assets/style.css").MustStatus(200).MustHeader("Cache-Control", "max-age=86400")
	app.Get("/missing.php").MustStatus(404)
}

// The wsgi skeleton's own tests pass, and the wsgi app serves it.
func TestCreateWSGI(t *testing.T) {
	py := peer.RequirePython(t)
	dir := create(t, "wsgi", "pysite", "python="+py)
	cmd := exec.Command(py, "-m", "unittest", "-v")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Ran 4 tests") {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
	app := gopastetest.LoadConfig(t, filepath.Join(dir, "site.ini"), "main")
	app.Get("/?name=%3Cb%3EAda").MustStatus(200).MustContain("Hello, &lt;b&gt;Ada!", "under gopaste")
	app.Get("/static/style.css").MustStatus(200).MustContain("body {")
	app.Get("/nope").MustStatus(404)
}

// The goapp skeleton builds against this checkout (a replace directive;
// no network: the module cache has every module gopaste needs), its own
// tests pass, and the binary serves a request.
func TestCreateGoapp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module: not in -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not in PATH: %v", err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := create(t, "goapp", "guestbook", "module=example.com/guestbook", "gopaste_replace="+repo)
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	gocmd := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, gobin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "CI=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	bin := filepath.Join(t.TempDir(), "guestbook")
	gocmd("build", "-o", bin, ".")
	if out := gocmd("test", "-count=1", "./..."); !strings.Contains(out, "ok  \texample.com/guestbook/site") {
		t.Errorf("go test:\n%s", out)
	}
	cmd := exec.CommandContext(ctx, bin, "request", "development.ini", "/")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "HTTP/1.1 200 OK") || !strings.Contains(string(out), "No one has signed yet") {
		t.Errorf("guestbook request development.ini /: %v\n%s", err, out)
	}
	cmd = exec.CommandContext(ctx, bin, "apps", "site")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "guestbook's guestbook") {
		t.Errorf("guestbook apps site: %v\n%s", err, out)
	}
}

// gopaste serve --static DIR: a file server in one line, as caddy
// file-server.
func TestServeStatic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "100% files")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>home</h1>"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "big.txt"), []byte(strings.Repeat("compress me ", 1000)), 0o644)
	logs := &logbuf.Buffer{}
	addr, s := serveBg(t, &cli.Env{}, logs, "--static", dir, "--port", "0")
	get := func(path string, gzip bool) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if gzip {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := get("/", false); resp.StatusCode != 200 || body != "<h1>home</h1>" {
		t.Errorf("GET / = %d %q", resp.StatusCode, body)
	}
	if resp, _ := get("/sub/big.txt", true); resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("GET /sub/big.txt = %d, Content-Encoding %q; want gzip", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if resp, body := get("/sub/", false); resp.StatusCode != 200 || !strings.Contains(body, "big.txt") {
		t.Errorf("GET /sub/ = %d %q, want a listing", resp.StatusCode, body)
	}
	stopServe(t, s, logs)

	for _, args := range [][]string{
		{"--static", filepath.Join(dir, "missing")},
		{"--static", filepath.Join(dir, "index.html")},
		{"--static", dir, "site.ini"},
		{"--static", dir, "--reload"},
	} {
		if code, _, errs := run(t, append([]string{"serve"}, args...)...); code != 2 || !strings.Contains(errs, "--static") {
			t.Errorf("serve %v: code %d, %q", args, code, errs)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	_, want, _ := run(t, "version")
	for _, arg := range []string{"--version", "-version"} {
		if code, out, errs := run(t, arg); code != 0 || out != want || !strings.HasPrefix(out, "gopaste ") {
			t.Errorf("gopaste %s = %d %q %q, want %q", arg, code, out, errs, want)
		}
	}
}
