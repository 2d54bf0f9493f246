package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
)

// altdemoConfig serves the altdemo app with its sessions in SQLite (so
// that prefork's workers and each CGI process share them), behind every
// server section gopaste has. %[1]s is the data directory.
const altdemoConfig = `
[DEFAULT]
data_dir = %[1]s

[pipeline:main]
pipeline = session altdemo

[filter:session]
use = session
store = sqlite
path = %%(data_dir)s/sessions.db

[app:altdemo]
use = altdemo
secret = an altdemo secret shared by every process
htpasswd = %%(here)s/users.htpasswd

[server:main]
use = http
host = 127.0.0.1
port = 0

[server:prefork]
use = http
host = 127.0.0.1
port = 0
concurrency = prefork
workers = 2

[server:scgi]
use = scgi
host = 127.0.0.1
port = 0

[server:uwsgi]
use = uwsgi
host = 127.0.0.1
port = 0

[server:fastcgi]
use = fastcgi
host = 127.0.0.1
port = 0

[server:cgi]
use = cgi
`

// altdemoSite writes the config and its htpasswd file (alice's password
// is "wonderland") into a new directory.
func altdemoSite(t *testing.T) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users.htpasswd"), []byte("alice:$apr1$deHYcRdH$sq1ri8lxiCzivRaz8c8p51\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, writeConfig(t, dir, fmt.Sprintf(altdemoConfig, dir))
}

// TestAltdemoEveryServer (issue 14): the same login flow through the
// altdemo app under every server gopaste has.
func TestAltdemoEveryServer(t *testing.T) {
	bin := gopasteBinary(t)
	t.Run("http", func(t *testing.T) {
		_, cfg := altdemoSite(t)
		s := serve(t, cfg)
		altdemoFlow(t, altdemoClient(nil), "http://"+s.addr, "")
	})
	t.Run("examples/altdemo", func(t *testing.T) {
		// The same config served by the example program of its own.
		_, cfg := altdemoSite(t)
		s := serveBinary(t, altdemoExample(t), cfg)
		altdemoFlow(t, altdemoClient(nil), "http://"+s.addr, "")
	})
	t.Run("prefork", func(t *testing.T) {
		_, cfg := altdemoSite(t)
		s := serve(t, cfg, "--server", "prefork")
		// A connection per request, so that requests spread over the
		// workers: the session lives in SQLite, the CSRF secret in the config.
		altdemoFlow(t, altdemoClient(&http.Transport{DisableKeepAlives: true}), "http://"+s.addr, "")
	})
	// nginx in front of the gateway servers, with the snippets
	// docs/protocols.md shows (the ports replaced).
	for _, gw := range []struct{ server, snippet, port string }{
		{"scgi", "../../scgi/testdata/nginx-scgi.conf", "127.0.0.1:4000"},
		{"uwsgi", "../../uwsgi/testdata/nginx.conf", "127.0.0.1:3031"},
		{"fastcgi", "../../fastcgi/testdata/nginx.conf", "127.0.0.1:9000"},
	} {
		t.Run(gw.server+" behind nginx", func(t *testing.T) {
			peer.Require(t, "nginx")
			snippet, err := os.ReadFile(gw.snippet)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(snippet, []byte(gw.port)) {
				t.Fatalf("%s does not name %s", gw.snippet, gw.port)
			}
			_, cfg := altdemoSite(t)
			s := serve(t, cfg, "--server", gw.server)
			n := peer.StartNginx(t, strings.ReplaceAll(string(snippet), gw.port, s.addr))
			altdemoFlow(t, altdemoClient(nil), n.URL(""), "")
			if t.Failed() {
				t.Logf("nginx: %s\ngopaste: %s", n.ErrorLog(), s.logs)
			}
		})
	}
	t.Run("cgi behind the cgi app", func(t *testing.T) {
		// Each request runs "gopaste serve site.ini --server cgi", a new
		// process: the session lives in SQLite, the CSRF secret in the
		// config.
		dir, cfg := altdemoSite(t)
		script := filepath.Join(dir, "altdemo.cgi")
		if err := os.WriteFile(script, []byte("#!/bin/sh\nexec "+bin+" serve "+cfg+" --server cgi\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		front := filepath.Join(dir, "front.ini")
		os.WriteFile(front, []byte(`
[composite:main]
use = urlmap
/altdemo = script

[app:script]
use = cgi
script = `+script+`
timeout = 30

[server:main]
use = http
host = 127.0.0.1
port = 0
`), 0o644)
		s := serve(t, front)
		altdemoFlow(t, altdemoClient(nil), "http://"+s.addr+"/altdemo", "/altdemo")
		if t.Failed() {
			t.Logf("front: %s", s.logs)
		}
	})
	t.Run("console", func(t *testing.T) {
		// Each request is "gopaste serve site.ini --server console" with
		// a console section naming it; the cookies go from one to the
		// next as a browser's would.
		dir, cfg := altdemoSite(t)
		base, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		altdemoFlow(t, altdemoClient(&consoleTransport{bin: bin, dir: dir, config: string(base)}), "http://localhost", "")
	})
}

var (
	exampleOnce sync.Once
	examplePath string
	exampleErr  error
)

// altdemoExample builds examples/altdemo once per test run.
func altdemoExample(t *testing.T) string {
	t.Helper()
	exampleOnce.Do(func() {
		examplePath = filepath.Join(filepath.Dir(gopasteBinary(t)), "altdemo")
		out, err := exec.Command("go", "build", "-o", examplePath, "github.com/gopaste/gopaste/examples/altdemo").CombinedOutput()
		if err != nil {
			exampleErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	return examplePath
}

// altdemoClient is a browser: cookies kept, redirects not followed (the
// flow checks them), each request bounded.
func altdemoClient(rt http.RoundTripper) *http.Client {
	jar, _ := cookiejar.New(nil) // cannot fail without options
	return &http.Client{
		Transport: rt, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var (
	tokenRe    = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	requestsRe = regexp.MustCompile(`<span class="requests">(\d+)</span>`)
)

// altdemoFlow logs alice in and out through base (the app's URL, at
// the mount scriptName), checking that the session counts every
// request and holds the user, and the pages show it.
func altdemoFlow(t *testing.T, c *http.Client, base, scriptName string) {
	t.Helper()
	want := 0 // the requests the session has made
	page := func(method, path string, form url.Values, status int, contains ...string) string {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		want++
		if res.StatusCode != status {
			t.Fatalf("%s %s = %d, want %d\n%s", method, path, res.StatusCode, status, b)
		}
		if status == http.StatusSeeOther {
			if loc := res.Header.Get("Location"); loc != scriptName+"/" {
				t.Errorf("%s %s: Location %q, want %q", method, path, loc, scriptName+"/")
			}
			return ""
		}
		if m := requestsRe.FindSubmatch(b); m == nil || string(m[1]) != strconv.Itoa(want) {
			t.Errorf("%s %s: the session counted %q requests, want %d", method, path, m, want)
		}
		for _, s := range contains {
			if !bytes.Contains(b, []byte(s)) {
				t.Errorf("%s %s: body lacks %q\n%s", method, path, s, b)
			}
		}
		return string(b)
	}
	token := func(body string) string {
		t.Helper()
		m := tokenRe.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no csrf_token in\n%s", body)
		}
		return m[1]
	}

	page("GET", "/", nil, 200, "Not logged in")
	form := page("GET", "/login", nil, 200, `name="password"`)
	// A wrong password, then the right one, with the form's token.
	page("POST", "/login", url.Values{"user": {"alice"}, "password": {"nope"}, "csrf_token": {token(form)}}, 401,
		"Unknown user or wrong password.")
	page("POST", "/login", url.Values{"user": {"alice"}, "password": {"wonderland"}, "csrf_token": {token(form)}}, 303)
	page("GET", "/", nil, 200, `Logged in as <strong class="user">alice</strong>`)
	page("GET", "/context", nil, 200, "<th>REMOTE_USER</th><td>alice</td>",
		"<th>SCRIPT_NAME</th><td>"+scriptName+"</td>", "<th>PATH_INFO</th><td>/context</td>",
		"<th>REQUEST_METHOD</th><td>GET</td>", "<th>session</th><td>43 characters, not shown</td>")
	page("GET", "/sessions", nil, 200, "<td>alice</td><td>"+strconv.Itoa(want+1)+"</td>")
	out := page("GET", "/logout", nil, 200, "Log out")
	page("POST", "/logout", url.Values{"csrf_token": {token(out)}, "logout": {""}}, 303)
	want = 0 // a new session
	page("GET", "/", nil, 200, "Not logged in")
}

// consoleTransport runs each request through "gopaste serve --server
// console", with the request in the console section's keys.
type consoleTransport struct {
	bin, dir, config string
	n                atomic.Int64
}

func (ct *consoleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	// Values go through ConfigParser's interpolation: % is %%.
	esc := strings.NewReplacer("%", "%%", "\n", "\n    ").Replace
	var sec strings.Builder
	fmt.Fprintf(&sec, "\n[server:console]\nuse = console\nmethod = %s\nurl = %s\n", req.Method, esc(req.URL.RequestURI()))
	if body != nil {
		fmt.Fprintf(&sec, "data = %s\n", esc(string(body)))
	}
	var headers []string
	for k, vs := range req.Header {
		for _, v := range vs {
			headers = append(headers, k+": "+v)
		}
	}
	if len(headers) > 0 {
		fmt.Fprintf(&sec, "headers = %s\n", esc(strings.Join(headers, "\n")))
	}
	path := filepath.Join(ct.dir, fmt.Sprintf("console-%d.ini", ct.n.Add(1)))
	if err := os.WriteFile(path, []byte(ct.config+sec.String()), 0o644); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(req.Context(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ct.bin, "serve", path, "--server", "console")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gopaste serve --server console: %v\n%s", err, stderr.Bytes())
	}
	res, err := http.ReadResponse(bufio.NewReader(&stdout), req)
	if err != nil {
		return nil, fmt.Errorf("console output: %v\n%s", err, stdout.Bytes())
	}
	return res, nil
}
