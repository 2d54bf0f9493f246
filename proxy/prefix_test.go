package proxy_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/internal/peer"
)

// TestForwardedPrefixUnderURLMapIssue13: gopaste's urlmap mounts /py on
// http_proxy; the backend builds its redirect from X-Forwarded-Prefix and
// the client ends up at /py/hello, not /hello. The backend is a real Flask
// app with ProxyFix(x_prefix=1), a Django one with the middleware
// docs/protocols.md quotes, and a Go stand-in; a client's own
// X-Forwarded-Prefix is replaced.
func TestForwardedPrefixUnderURLMapIssue13(t *testing.T) {
	t.Run("go", func(t *testing.T) {
		be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			prefix := r.Header.Get("X-Forwarded-Prefix")
			if r.URL.Path == "/" {
				http.Redirect(w, r, prefix+"/hello", http.StatusFound)
				return
			}
			io.WriteString(w, "hello from "+prefix+r.URL.Path)
		}))
		defer be.Close()
		checkPrefix(t, strings.TrimPrefix(be.URL, "http://"))
	})
	t.Run("flask", func(t *testing.T) {
		dir := pythonApp(t, "flask", "flask_prefix.py")
		peer.WriteFile(t, dir, "run.py", "import sys\nfrom werkzeug.serving import run_simple\nfrom flask_prefix import app\n"+
			"run_simple('127.0.0.1', int(sys.argv[1]), app)\n")
		runPythonBackend(t, dir, "run.py")
	})
	t.Run("django", func(t *testing.T) {
		dir := pythonApp(t, "django", "django_prefix.py")
		app, err := os.ReadFile(filepath.Join("testdata", "django_app.py"))
		if err != nil {
			t.Fatal(err)
		}
		peer.WriteFile(t, dir, "django_app.py", string(app))
		runPythonBackend(t, dir, "django_app.py")
	})
}

// pythonApp checks that Debian's python3 has module and that
// docs/protocols.md quotes testdata/file verbatim, and copies the file to
// a new directory.
func pythonApp(t *testing.T, module, file string) string {
	t.Helper()
	python := peer.Require(t, "python3")
	if out, err := runPython(python, "import "+module); err != nil {
		peer.Missing(t, "%s has no %s (Debian: python3-%s): %v %s", python, module, module, err, out)
	}
	src, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/protocols.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), string(src)) {
		t.Errorf("docs/protocols.md does not quote testdata/%s verbatim", file)
	}
	dir := t.TempDir()
	peer.WriteFile(t, dir, file, string(src))
	return dir
}

// runPythonBackend runs script (its argument a port) in dir and checks
// the redirect through http_proxy under /py.
func runPythonBackend(t *testing.T, dir, script string) {
	t.Helper()
	port := peer.FreePort(t)
	p := peer.Start(t, peer.StartOptions{Dir: dir}, peer.Find("python3"), script, fmt.Sprint(port))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p.WaitDial(t, "tcp", addr)
	checkPrefix(t, addr)
	if t.Failed() {
		t.Logf("%s: %s", script, p.Output())
	}
}

func runPython(python, code string) (string, error) {
	out, err := exec.Command(python, "-c", code).CombinedOutput()
	return string(out), err
}

// checkPrefix mounts backend at /py through http_proxy and follows the
// redirect of GET /py/.
func checkPrefix(t *testing.T, backend string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "front.ini")
	cfg := fmt.Sprintf("[composite:main]\nuse = urlmap\n/py = flask\n\n[app:flask]\nuse = http_proxy\nbackends = %s\n", backend)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	app, err := deploy.BuildApp(path, "main", deploy.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	front := httptest.NewServer(app.Handler)
	defer front.Close()
	var locations []string
	c := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		locations = append(locations, req.Response.Header.Get("Location"))
		if len(via) > 3 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	req, _ := http.NewRequest("GET", front.URL+"/py/", nil)
	req.Header.Set("X-Forwarded-Prefix", "/evil")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/py/hello" || string(b) != "hello from /py/hello" {
		t.Errorf("GET /py/ ended at %s: %d %q (redirects %q); want /py/hello: 200 \"hello from /py/hello\"",
			res.Request.URL.Path, res.StatusCode, b, locations)
	}
}
