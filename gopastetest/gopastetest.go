// Package gopastetest drives an http.Handler in-process from tests, as
// Paste's paste.fixture and WebTest drove WSGI applications: requests
// without a network, cookies kept across requests, HTML forms filled by
// field name and submitted, redirects followed, and assertions whose
// failure messages show the status, the headers and the start of the body.
//
//	app := gopastetest.New(t, handler)
//	app.Get("/login").MustStatus(200).
//		Form("login").Set("user", "bob").Set("password", "pw").Submit().
//		MustStatus(303).FollowRedirect().MustContain("Hello, bob")
//
// [LoadConfig] builds the app from an ini file with deploy.LoadApp; the
// test must import the parts the file names (gopaste/builtin for all).
//
// An App is not safe for concurrent use; make one per goroutine.
package gopastetest

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/middleware/lint"
)

// TB is the part of testing.TB that an App uses; *testing.T and
// *testing.B satisfy it.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// App is a handler under test with a client's state: cookies, default
// headers and redirect policy.
type App struct {
	t       TB
	handler http.Handler

	// Host is the host requests are addressed to; default "example.com".
	Host string
	// Header is sent with every request (before the request's own).
	Header http.Header
	// Jar keeps cookies across requests; New sets a fresh jar. Set it to
	// nil to send no cookies.
	Jar http.CookieJar
	// FollowRedirects makes every request follow redirects (up to
	// MaxRedirects) and return the last response.
	FollowRedirects bool
	// MaxRedirects bounds a chain of redirects; zero means 10.
	MaxRedirects int
	// Lint runs the handler under lint.Wrap, turning each breach of the
	// ResponseWriter contract into a test error.
	Lint bool
}

// New returns a client for h.
func New(t TB, h http.Handler) *App {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("gopastetest: cookie jar: %v", err)
	}
	return &App{t: t, handler: h, Host: "example.com", Header: make(http.Header), Jar: jar}
}

// LoadConfig builds app appName ("main" when empty) from the ini file at
// path with deploy.LoadApp, closes it when the test ends, and returns a
// client for it. The test binary must import the parts the file uses.
func LoadConfig(t TB, path, appName string) *App {
	t.Helper()
	h, closer, err := deploy.LoadApp(path, appName)
	if err != nil {
		t.Fatalf("gopastetest: load %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := closer.Close(); err != nil {
			t.Errorf("gopastetest: close %s: %v", path, err)
		}
	})
	return New(t, h)
}

// Response is a completed response.
type Response struct {
	Status  int
	Header  http.Header
	Body    string
	Request *http.Request // the request that produced it

	app *App
}

// Get sends GET path (a path with optional query, or an absolute URL).
func (a *App) Get(path string) *Response {
	a.t.Helper()
	return a.Do(a.NewRequest(http.MethodGet, path, nil))
}

// Post sends body with the given content type.
func (a *App) Post(path, contentType, body string) *Response {
	a.t.Helper()
	r := a.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return a.Do(r)
}

// PostForm sends values as an urlencoded form.
func (a *App) PostForm(path string, values url.Values) *Response {
	a.t.Helper()
	return a.Post(path, "application/x-www-form-urlencoded", values.Encode())
}

// Put sends body with the given content type.
func (a *App) Put(path, contentType, body string) *Response {
	a.t.Helper()
	r := a.NewRequest(http.MethodPut, path, strings.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return a.Do(r)
}

// Delete sends DELETE path.
func (a *App) Delete(path string) *Response {
	a.t.Helper()
	return a.Do(a.NewRequest(http.MethodDelete, path, nil))
}

// NewRequest makes a request to path for Do, addressed to a.Host.
func (a *App) NewRequest(method, path string, body io.Reader) *http.Request {
	a.t.Helper()
	u, err := a.resolve(nil, path)
	if err != nil {
		a.t.Fatalf("gopastetest: %s %q: %v", method, path, err)
	}
	return newRequest(method, u, body)
}

// newRequest makes a server-side request for absolute URL u: URL and
// RequestURI hold the path and query, Host the host.
func newRequest(method string, u *url.URL, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, u.RequestURI(), body)
	r.Host = u.Host
	if u.Scheme == "https" {
		r.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: u.Hostname()}
	}
	return r
}

// absURL is the URL r was sent to, as the client saw it.
func absURL(r *http.Request) *url.URL {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	if r.TLS != nil {
		u.Scheme = "https"
	}
	return &u
}

// resolve makes path absolute against base (or a.Host).
func (a *App) resolve(base *url.URL, path string) (*url.URL, error) {
	if base == nil {
		base = &url.URL{Scheme: "http", Host: a.Host, Path: "/"}
	}
	ref, err := url.Parse(path)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(ref), nil
}

// Do sends r through the handler: default headers and cookies are added,
// cookies the response sets are kept, and redirects followed when
// FollowRedirects is set.
func (a *App) Do(r *http.Request) *Response {
	a.t.Helper()
	resp := a.do(r)
	if a.FollowRedirects {
		max := a.MaxRedirects
		if max <= 0 {
			max = 10
		}
		for i := 0; resp.isRedirect(); i++ {
			if i == max {
				a.t.Fatalf("gopastetest: more than %d redirects; last:\n%s", max, resp)
			}
			resp = resp.follow()
		}
	}
	return resp
}

func (a *App) do(r *http.Request) *Response {
	a.t.Helper()
	if r.Host == "" {
		r.Host = r.URL.Host
	}
	if r.Host == "" {
		r.Host = a.Host
	}
	u := absURL(r)
	if r.RequestURI == "" {
		r.RequestURI = r.URL.RequestURI()
	}
	if r.RemoteAddr == "" {
		r.RemoteAddr = "192.0.2.1:1234"
	}
	for k, vs := range a.Header {
		if _, ok := r.Header[k]; !ok {
			r.Header[k] = append([]string(nil), vs...)
		}
	}
	if a.Jar != nil {
		for _, c := range a.Jar.Cookies(u) {
			r.AddCookie(c)
		}
	}
	// Keep the body for a 307/308 replay.
	if r.Body != nil && r.GetBody == nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			a.t.Fatalf("gopastetest: read request body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		r.ContentLength = int64(len(b))
	}
	h := a.handler
	if a.Lint {
		h = lint.Wrap(a.t, h)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	if a.Jar != nil {
		if cs := res.Cookies(); len(cs) > 0 {
			a.Jar.SetCookies(u, cs)
		}
	}
	return &Response{Status: w.Code, Header: res.Header, Body: w.Body.String(), Request: r, app: a}
}

// Cookie returns the value of the cookie name the jar would send to path,
// and whether there is one.
func (a *App) Cookie(path, name string) (string, bool) {
	if a.Jar == nil {
		return "", false
	}
	u, err := a.resolve(nil, path)
	if err != nil {
		return "", false
	}
	for _, c := range a.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// String describes the response for failure messages: request line,
// status, the headers (sorted, up to 20) and the first 2 KiB of the body.
func (r *Response) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s -> %d %s\n", r.Request.Method, r.Request.URL.RequestURI(), r.Status, http.StatusText(r.Status))
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 20 {
			fmt.Fprintf(&b, "... %d more headers\n", len(keys)-20)
			break
		}
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
	}
	b.WriteString("\n")
	const max = 2048
	if len(r.Body) > max {
		b.WriteString(r.Body[:max])
		fmt.Fprintf(&b, "\n... (%d more bytes)", len(r.Body)-max)
	} else {
		b.WriteString(r.Body)
	}
	return b.String()
}

// MustStatus fails the test unless the status is code.
func (r *Response) MustStatus(code int) *Response {
	r.app.t.Helper()
	if r.Status != code {
		r.app.t.Fatalf("status %d, want %d; response:\n%s", r.Status, code, r)
	}
	return r
}

// MustContain fails the test unless the body contains every substr.
func (r *Response) MustContain(substr ...string) *Response {
	r.app.t.Helper()
	for _, s := range substr {
		if !strings.Contains(r.Body, s) {
			r.app.t.Fatalf("body lacks %q; response:\n%s", s, r)
		}
	}
	return r
}

// MustNotContain fails the test if the body contains any substr.
func (r *Response) MustNotContain(substr ...string) *Response {
	r.app.t.Helper()
	for _, s := range substr {
		if strings.Contains(r.Body, s) {
			r.app.t.Fatalf("body contains %q; response:\n%s", s, r)
		}
	}
	return r
}

// MustHeader fails the test unless header key has value.
func (r *Response) MustHeader(key, value string) *Response {
	r.app.t.Helper()
	if got := r.Header.Get(key); got != value {
		r.app.t.Fatalf("header %s = %q, want %q; response:\n%s", key, got, value, r)
	}
	return r
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r *Response) JSON(v any) *Response {
	r.app.t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		r.app.t.Fatalf("body is not JSON for %T: %v; response:\n%s", v, err, r)
	}
	return r
}

func (r *Response) isRedirect() bool {
	switch r.Status {
	case 301, 302, 303, 307, 308:
		return r.Header.Get("Location") != ""
	}
	return false
}

// FollowRedirect requests the Location of a redirect (GET, except that 307
// and 308 repeat the method and body), failing the test when the
// response is not a redirect.
func (r *Response) FollowRedirect() *Response {
	r.app.t.Helper()
	if !r.isRedirect() {
		r.app.t.Fatalf("not a redirect; response:\n%s", r)
	}
	return r.follow()
}

func (r *Response) follow() *Response {
	a := r.app
	a.t.Helper()
	u, err := a.resolve(absURL(r.Request), r.Header.Get("Location"))
	if err != nil {
		a.t.Fatalf("bad Location %q: %v; response:\n%s", r.Header.Get("Location"), err, r)
	}
	method := http.MethodGet
	var body io.Reader
	if r.Status == 307 || r.Status == 308 {
		method = r.Request.Method
		if r.Request.GetBody != nil {
			rc, _ := r.Request.GetBody() // ours never fails
			body = rc
		}
	} else if r.Request.Method == http.MethodHead {
		method = http.MethodHead
	}
	req := newRequest(method, u, body)
	if body != nil {
		req.Header.Set("Content-Type", r.Request.Header.Get("Content-Type"))
	}
	return a.do(req)
}
