package wsgi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// client is a browser: cookies kept, redirects not followed.
func client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func send(t *testing.T, c *http.Client, req *http.Request) (int, http.Header, string) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, c, req)
}

func getWith(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return send(t, c, req)
}

func TestFlask(t *testing.T) {
	_, srv, logs := start(t, Options{Module: "app:app", Chdir: filepath.Join(testdata(t), "flask"), Workers: 2, Threads: 2}, "flask")
	c := client(t)
	check := func(what string, status int, body string, wantStatus int, want string) {
		t.Helper()
		if status != wantStatus || !strings.Contains(body, want) {
			t.Errorf("%s = %d %.300q, want %d with %q", what, status, body, wantStatus, want)
		}
	}
	status, _, body := getWith(t, c, srv.URL+"/hello/%3Cb%3EBob")
	check("template", status, body, 200, "<h1>Hello, &lt;b&gt;Bob!</h1>")
	status, _, body = postForm(t, c, srv.URL+"/form", url.Values{"name": {"Zoë"}, "color": {"blue"}})
	check("form", status, body, 200, "thanks, Zoë (blue)")
	for i := 1; i <= 3; i++ {
		status, _, body = getWith(t, c, srv.URL+"/count")
		check("session", status, body, 200, fmt.Sprintf("visit %d", i))
	}
	// A multipart upload larger than the worker's first read.
	file := bytes.Repeat([]byte("gopaste\x00\xff"), 40000)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "data.bin")
	fw.Write(file)
	mw.WriteField("note", "uploaded")
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	sum := sha256.Sum256(file)
	status, _, body = send(t, c, req)
	check("upload", status, body, 200, fmt.Sprintf("data.bin %d %s uploaded", len(file), hex.EncodeToString(sum[:])))
	status, h, body := getWith(t, c, srv.URL+"/stream")
	check("stream", status, body, 200, "line 0\nline 1\nline 2\n")
	if h.Get("Content-Length") != "" {
		t.Errorf("stream came with Content-Length %q: was it buffered?", h.Get("Content-Length"))
	}
	status, _, _ = getWith(t, c, srv.URL+"/missing")
	check("404", status, "", 404, "")
	if strings.Contains(logs.String(), "Traceback") {
		t.Errorf("traceback in the log")
	}
}

func TestBottle(t *testing.T) {
	_, srv, _ := start(t, Options{Module: "app:app", Chdir: filepath.Join(testdata(t), "bottle"), Threads: 4}, "bottle")
	c := client(t)
	if status, _, body := getWith(t, c, srv.URL+"/hello/%3Cb%3E"); status != 200 || body != "<h1>Hello, &lt;b&gt;!</h1>" {
		t.Errorf("GET /hello = %d %q", status, body)
	}
	if status, _, body := postForm(t, c, srv.URL+"/form", url.Values{"name": {"Ann"}}); status != 200 || body != "thanks, Ann" {
		t.Errorf("POST /form = %d %q", status, body)
	}
	if status, h, body := getWith(t, c, srv.URL+"/json"); status != 200 || h.Get("Content-Type") != "application/json" ||
		!strings.Contains(body, `"multithread": true`) {
		t.Errorf("GET /json = %d %s %q", status, h.Get("Content-Type"), body)
	}
}

// TestPyramid loads a project's development.ini (as Pyramid's
// cookiecutter writes it: use = egg:myproject, found through its
// egg-info) with paste, and its logging sections with logging_config.
func TestPyramid(t *testing.T) {
	dir := filepath.Join(testdata(t), "pyramid")
	_, srv, logs := start(t, Options{Paste: "config:development.ini#main", Chdir: dir, PythonPath: []string{dir},
		LoggingConfig: filepath.Join(dir, "development.ini")}, "pyramid", "paste.deploy")
	c := client(t)
	if status, _, body := getWith(t, c, srv.URL+"/"); status != 200 || body != `{"project": "myproject", "settings": "Howdy"}` {
		t.Errorf("GET / = %d %q", status, body)
	}
	if status, _, body := getWith(t, c, srv.URL+"/hello/Ann"); status != 200 || body != "Howdy, Ann!" {
		t.Errorf("GET /hello/Ann = %d %q", status, body)
	}
	if status, _, _ := getWith(t, c, srv.URL+"/nope"); status != 404 {
		t.Errorf("GET /nope = %d, want 404", status)
	}
	if strings.Contains(logs.String(), "Traceback") {
		t.Errorf("traceback in the log")
	}
}

// startproject makes a Django project in a temporary directory with
// django-admin, migrates its SQLite database and adds a superuser.
func startproject(t *testing.T, py string) string {
	t.Helper()
	dir := t.TempDir()
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command(py, args...)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(nil, "-m", "django", "startproject", "mysite", ".")
	// DEBUG is off, so the host must be allowed.
	peer.WriteFile(t, dir, "mysite/settings_local.py", "from .settings import *\nALLOWED_HOSTS = ['*']\n")
	env := []string{"DJANGO_SETTINGS_MODULE=mysite.settings_local", "PYTHONDONTWRITEBYTECODE=1"}
	run(env, "manage.py", "migrate", "--noinput", "-v", "0")
	run(append(env, "DJANGO_SUPERUSER_PASSWORD=correct horse"), "manage.py", "createsuperuser", "--noinput",
		"--username", "admin", "--email", "admin@example.com")
	return dir
}

var csrfRe = regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`)

// TestDjango logs in to the admin of a project made by startproject: the
// login form's CSRF token and cookie, the session cookie, the redirect.
func TestDjango(t *testing.T) {
	py := peer.RequirePython(t, "django")
	dir := startproject(t, py)
	_, srv, _ := start(t, Options{Module: "mysite.wsgi", Chdir: dir, Workers: 2, Threads: 2,
		Env: []string{"DJANGO_SETTINGS_MODULE=mysite.settings_local"}}, "django")
	c := client(t)
	status, _, body := getWith(t, c, srv.URL+"/admin/login/?next=/admin/")
	m := csrfRe.FindStringSubmatch(body)
	if status != 200 || m == nil {
		t.Fatalf("GET /admin/login/ = %d, no CSRF token in %.500q", status, body)
	}
	form := url.Values{"csrfmiddlewaretoken": {m[1]}, "username": {"admin"}, "password": {"correct horse"}, "next": {"/admin/"}}
	// Without the CSRF cookie the login is refused.
	if status, _, _ := postForm(t, client(t), srv.URL+"/admin/login/?next=/admin/", form); status != 403 {
		t.Errorf("POST without the CSRF cookie = %d, want 403", status)
	}
	status, h, body := postForm(t, c, srv.URL+"/admin/login/?next=/admin/", form)
	if status != 302 || h.Get("Location") != "/admin/" {
		t.Fatalf("POST /admin/login/ = %d Location %q, want 302 /admin/; body %.500q", status, h.Get("Location"), body)
	}
	status, _, body = getWith(t, c, srv.URL+"/admin/")
	if status != 200 || !strings.Contains(body, "Site administration") {
		t.Errorf("GET /admin/ = %d %.300q, want the admin index", status, body)
	}
}
