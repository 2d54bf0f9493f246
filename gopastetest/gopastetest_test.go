package gopastetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopaste/gopaste/registry"
)

// site is a small application: a login form, a cookie, a page that needs
// it, and an echo of the form values it gets.
func site() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><body>
<form id="search" action="/search"><input name="q"></form>
<form name="login" method="post" action="/login?next=/home">
  <input type="hidden" name="csrf" value="tok&amp;en">
  <input name="user" value="">
  <input type="password" name="password">
  <input type="checkbox" name="remember">
  <input type="checkbox" name="topics" value="go" checked>
  <input type="checkbox" name="topics" value="python">
  <input type="radio" name="lang" value="en" checked><input type="radio" name="lang" value="fr">
  <select name="tz"><option>UTC</option><option value="cet" selected>Paris</option></select>
  <select name="tags" multiple><option value="a" selected>A<option value="b">B</select>
  <textarea name="bio">
line one &lt;b&gt;</textarea>
  <input name="off" value="x" disabled>
  <input type="file" name="upload">
  <button type="submit" name="go" value="in">Log in</button>
  <input type="submit" name="cancel" value="Cancel">
</form></body></html>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("user") == "" {
			http.Error(w, "who?", http.StatusBadRequest)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "user", Value: r.FormValue("user"), Path: "/"})
		http.Redirect(w, r, r.URL.Query().Get("next"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("user")
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "Hello, %s", c.Value)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		r.ParseMultipartForm(1 << 20)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "form": r.Form, "host": r.Host, "uri": r.RequestURI,
			"ct": r.Header.Get("Content-Type"), "x": r.Header.Get("X-Test"),
		})
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("POST /keep", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
	})
	return mux
}

func TestLoginFlow(t *testing.T) {
	app := New(t, site())
	app.Get("/home").MustStatus(302)
	login := app.Get("/login").MustStatus(200).Form("login")
	if login.Method != "POST" || login.Action != "/login?next=/home" {
		t.Errorf("form %s %s", login.Method, login.Action)
	}
	resp := login.Set("user", "bob").Set("password", "pw").Submit("go").MustStatus(303)
	if v, ok := app.Cookie("/", "user"); !ok || v != "bob" {
		t.Errorf("cookie user = %q, %v", v, ok)
	}
	resp.FollowRedirect().MustStatus(200).MustContain("Hello, bob")
	app.Get("/home").MustContain("Hello, bob")
}

func TestFormValues(t *testing.T) {
	app := New(t, site())
	f := app.Get("/login").Form("1")
	want := url.Values{
		"csrf": {"tok&en"}, "user": {""}, "password": {""}, "topics": {"go"}, "lang": {"en"},
		"tz": {"cet"}, "tags": {"a"}, "bio": {"line one <b>"},
	}
	if diff := cmp.Diff(want, f.Values()); diff != "" {
		t.Errorf("initial values (-want +got):\n%s", diff)
	}
	f.Set("remember", "on").Set("topics", "python").Set("lang", "fr").Set("tz", "UTC").
		Set("tags", "b").Set("bio", "new")
	want["remember"] = []string{"on"}
	want["topics"] = []string{"go", "python"}
	want["lang"] = []string{"fr"}
	want["tz"] = []string{"UTC"}
	want["tags"] = []string{"a", "b"}
	want["bio"] = []string{"new"}
	if diff := cmp.Diff(want, f.Values()); diff != "" {
		t.Errorf("after Set (-want +got):\n%s", diff)
	}
	f.Set("topics", "")
	if got := f.Values()["topics"]; got != nil {
		t.Errorf("unchecked topics = %q", got)
	}
	// Submitting to /echo shows what a server receives.
	f.Action = "/echo"
	var got struct {
		Method string
		Form   map[string][]string
	}
	f.Submit("cancel").MustStatus(200).JSON(&got)
	if got.Method != "POST" || strings.Join(got.Form["cancel"], "") != "Cancel" || got.Form["go"] != nil || got.Form["lang"][0] != "fr" {
		t.Errorf("echo %+v", got)
	}
	if g := app.Get("/login").Form("search"); g.Method != "GET" || len(g.Fields) != 1 {
		t.Errorf("search form %+v", g)
	}
}

func TestGetFormSubmitsQuery(t *testing.T) {
	app := New(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/search" {
			fmt.Fprintf(w, "q=%s", r.URL.Query().Get("q"))
			return
		}
		io.WriteString(w, `<form action="search"><input name=q value='a b'><select name=s></select></form>`)
	}))
	app.Get("/dir/page").Form("").Submit().MustStatus(200)
	// Relative action resolves against the page: /dir/search.
	app2 := app.Get("/").Form("").Set("q", "x&y").Submit()
	if app2.Request.URL.RequestURI() != "/search?q=x%26y" || app2.Body != "q=x&y" {
		t.Errorf("submitted to %s, body %q", app2.Request.URL.RequestURI(), app2.Body)
	}
}

func TestMultipartForm(t *testing.T) {
	echo := site()
	app := New(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<form method=post action=/echo enctype="multipart/form-data"><input name=a value=1><textarea name=b>two</textarea></form>`)
			return
		}
		echo.ServeHTTP(w, r)
	}))
	var got struct {
		CT   string
		Form map[string][]string
	}
	app.Get("/").Form("").Submit().JSON(&got)
	if !strings.HasPrefix(got.CT, "multipart/form-data; boundary=") || got.Form["a"][0] != "1" || got.Form["b"][0] != "two" {
		t.Errorf("multipart echo %+v", got)
	}
}

func TestRequests(t *testing.T) {
	app := New(t, site())
	app.Header.Set("X-Test", "default")
	var got struct {
		Method, Host, URI, CT, X string
		Form                     map[string][]string
	}
	app.PostForm("/echo?a=1", url.Values{"b": {"2"}}).JSON(&got)
	if got.Method != "POST" || got.Host != "example.com" || got.URI != "/echo?a=1" || got.X != "default" ||
		got.Form["a"][0] != "1" || got.Form["b"][0] != "2" {
		t.Errorf("PostForm echo %+v", got)
	}
	app.Put("/echo", "text/plain", "x").JSON(&got)
	if got.Method != "PUT" || got.CT != "text/plain" {
		t.Errorf("Put echo %+v", got)
	}
	app.Delete("/echo").JSON(&got)
	if got.Method != "DELETE" {
		t.Errorf("Delete echo %+v", got)
	}
	r := app.NewRequest("PATCH", "/echo", nil)
	r.Header.Set("X-Test", "own")
	app.Do(r).JSON(&got)
	if got.Method != "PATCH" || got.X != "own" {
		t.Errorf("Do echo %+v", got)
	}
}

func TestFollowRedirects(t *testing.T) {
	app := New(t, site())
	app.FollowRedirects = true
	app.PostForm("/login?next=/home", url.Values{"user": {"ann"}}).MustStatus(200).MustContain("Hello, ann")
	// 307 repeats the method and body.
	var got struct {
		Method string
		Form   map[string][]string
	}
	app.PostForm("/keep", url.Values{"k": {"v"}}).JSON(&got)
	if got.Method != "POST" || got.Form["k"][0] != "v" {
		t.Errorf("after 307: %+v", got)
	}
	ft := &fakeTB{}
	loop := New(ft, site())
	loop.FollowRedirects = true
	ft.run(func() { loop.Get("/loop") })
	if !ft.failedWith("more than 10 redirects") {
		t.Errorf("loop: %q", ft.msgs)
	}
}

// fakeTB records failures; Fatalf stops the function run by run.
type fakeTB struct {
	msgs     []string
	cleanups []func()
}

type fatal struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	panic(fatal{})
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeTB) run(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(fatal); !ok {
				panic(v)
			}
		}
	}()
	fn()
}

func (f *fakeTB) failedWith(s string) bool {
	for _, m := range f.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func TestFailureMessages(t *testing.T) {
	big := strings.Repeat("b", 3000)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Why", "because")
		w.WriteHeader(404)
		io.WriteString(w, "start "+big)
	})
	tests := []struct {
		name string
		do   func(r *Response)
		want []string
	}{
		{"status", func(r *Response) { r.MustStatus(200) }, []string{"status 404, want 200", "GET /x?y=1 -> 404 Not Found", "X-Why: because", "start bbb", "(958 more bytes)"}},
		{"contain", func(r *Response) { r.MustContain("start", "missing") }, []string{`body lacks "missing"`}},
		{"not contain", func(r *Response) { r.MustNotContain("start") }, []string{`body contains "start"`}},
		{"header", func(r *Response) { r.MustHeader("X-Why", "no") }, []string{`header X-Why = "because", want "no"`}},
		{"json", func(r *Response) { var v map[string]any; r.JSON(&v) }, []string{"body is not JSON"}},
		{"form", func(r *Response) { r.Form("") }, []string{`no form "" among 0 forms`}},
		{"redirect", func(r *Response) { r.FollowRedirect() }, []string{"not a redirect"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &fakeTB{}
			app := New(ft, h)
			ft.run(func() { tt.do(app.Get("/x?y=1")) })
			for _, w := range tt.want {
				if !ft.failedWith(w) {
					t.Errorf("failure %q lacks %q", ft.msgs, w)
				}
			}
			for _, m := range ft.msgs {
				if len(m) > 2048+1000 {
					t.Errorf("failure message is %d bytes; the body should be cut at 2 KiB", len(m))
				}
			}
		})
	}
}

func TestFormErrors(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<form><select name=s><option>a</select><input type=submit name=ok></form>`)
	})
	for _, tt := range []struct {
		do   func(f *Form)
		want string
	}{
		{func(f *Form) { f.Set("nope", "x") }, `form has no field "nope"`},
		{func(f *Form) { f.Set("s", "zz") }, `has no option "zz"`},
		{func(f *Form) { f.Submit("cancel") }, `no submit button "cancel"`},
	} {
		ft := &fakeTB{}
		app := New(ft, h)
		ft.run(func() { tt.do(app.Get("/").Form("")) })
		if !ft.failedWith(tt.want) {
			t.Errorf("failures %q lack %q", ft.msgs, tt.want)
		}
	}
}

func TestLintOption(t *testing.T) {
	ft := &fakeTB{}
	app := New(ft, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.WriteHeader(500)
	}))
	app.Lint = true
	ft.run(func() { app.Get("/") })
	if !ft.failedWith("writeheader-twice") {
		t.Errorf("lint failures %q", ft.msgs)
	}
}

func TestScan(t *testing.T) {
	got := scan(`a<!-- <form> --><P Class="x" data-v='1>2' empty flag=>t</p><script>"<form>"</script><`)
	var names []string
	for _, tg := range got {
		names = append(names, tg.name)
	}
	want := []string{"#text", "p", "#text", "/p", "script", "#text", "/script", "#text"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("scan names (-want +got):\n%s", diff)
	}
	attrs := got[1].attrs
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if attrs["class"] != "x" || attrs["data-v"] != "1>2" || strings.Join(keys, ",") != "class,data-v,empty,flag" {
		t.Errorf("attrs %q", attrs)
	}
}

// textApp is a tiny app registered for LoadConfig's test.
func init() {
	registry.RegisterApp("gopastetest_hello", func(c *registry.Config) (http.Handler, error) {
		msg := c.String("message", "hello")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, msg)
		}), c.Err()
	}, "test app")
}

func TestLoadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.ini")
	ini := "[app:main]\nuse = gopastetest_hello\nmessage = from the ini file\n"
	if err := os.WriteFile(path, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	LoadConfig(t, path, "").Get("/").MustStatus(200).MustContain("from the ini file")

	ft := &fakeTB{}
	ft.run(func() { LoadConfig(ft, filepath.Join(t.TempDir(), "missing.ini"), "main") })
	if !ft.failedWith("gopastetest: load") {
		t.Errorf("missing file: %q", ft.msgs)
	}
}
