package cookieauth

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/auth/htpasswd"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/registry"
)

const (
	secret    = "0123456789abcdef-current"
	oldSecret = "0123456789abcdef-previous"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testCookie() Cookie {
	c := Cookie{Secret: secret, OldSecrets: []string{oldSecret}, Timeout: time.Hour}
	if err := c.validate(); err != nil {
		panic(err)
	}
	return c
}

func TestVerify(t *testing.T) {
	c := testCookie()
	good := c.Sign("alice", t0)
	oldC := Cookie{Name: DefaultName, Secret: oldSecret, Timeout: time.Hour}
	other := Cookie{Name: "other", Secret: secret, Timeout: time.Hour}
	stranger := Cookie{Name: DefaultName, Secret: "a-secret-nobody-configured", Timeout: time.Hour}
	i := strings.LastIndexByte(good, '.')
	tests := []struct {
		name  string
		value string
		now   time.Time
		ok    bool
		old   bool
	}{
		{name: "fresh", value: good, now: t0, ok: true},
		{name: "just before expiry", value: good, now: t0.Add(time.Hour - time.Second), ok: true},
		{name: "expired", value: good, now: t0.Add(time.Hour)},
		{name: "issued in the future", value: good, now: t0.Add(-time.Hour)},
		{name: "timeout shortened since", value: (&Cookie{Name: DefaultName, Secret: secret, Timeout: 48 * time.Hour}).Sign("alice", t0), now: t0.Add(2 * time.Hour)},
		{name: "old secret", value: oldC.Sign("alice", t0), now: t0, ok: true, old: true},
		{name: "unknown secret", value: stranger.Sign("alice", t0), now: t0},
		{name: "other cookie name", value: other.Sign("alice", t0), now: t0},
		{name: "payload changed", value: "Ym9i" + good[len("YWxpY2U"):], now: t0},
		{name: "signature changed", value: good[:i+1] + strings.Repeat("A", len(good)-i-1), now: t0},
		{name: "no signature", value: good[:i], now: t0},
		{name: "empty", value: "", now: t0},
		{name: "garbage", value: "a.b.c.d", now: t0},
		{name: "too long", value: strings.Repeat("a", 5000) + "." + good[i+1:], now: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Verify(tt.value, tt.now)
			if ok != tt.ok {
				t.Fatalf("Verify ok = %v, want %v", ok, tt.ok)
			}
			if ok && (got.User != "alice" || got.Old != tt.old || !got.Issued.Equal(t0) || !got.Expires.Equal(t0.Add(time.Hour))) {
				t.Errorf("Verify = %+v", got)
			}
		})
	}
}

func TestCookieValidate(t *testing.T) {
	for _, c := range []Cookie{
		{Secret: "short"},
		{Secret: secret, Name: "bad name"},
		{Secret: secret, Name: "a;b"},
		{Secret: secret, OldSecrets: []string{"short"}},
		{Secret: secret, Timeout: -time.Second},
	} {
		if err := c.validate(); err == nil {
			t.Errorf("validate(%+v) succeeded", c)
		}
	}
}

var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "user="+auth.User(r.Context()))
})

func TestFilter(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	c := testCookie()
	oldC := Cookie{Name: DefaultName, Secret: oldSecret, Timeout: time.Hour}
	tests := []struct {
		name     string
		opts     Options
		cookie   string
		method   string
		at       time.Duration // after t0
		status   int
		body     string
		location string
		reissue  bool
	}{
		{name: "no cookie passes", status: 200, body: "user="},
		{name: "valid cookie", cookie: c.Sign("alice", t0), status: 200, body: "user=alice"},
		{name: "expired cookie", cookie: c.Sign("alice", t0), at: 2 * time.Hour, status: 200, body: "user="},
		{name: "old secret reissued", cookie: oldC.Sign("alice", t0), status: 200, body: "user=alice", reissue: true},
		{name: "reissue time reached", opts: Options{ReissueTime: 10 * time.Minute}, cookie: c.Sign("alice", t0), at: 11 * time.Minute, status: 200, body: "user=alice", reissue: true},
		{name: "reissue time not reached", opts: Options{ReissueTime: 10 * time.Minute}, cookie: c.Sign("alice", t0), at: 9 * time.Minute, status: 200, body: "user=alice"},
		{name: "login redirect", opts: Options{LoginURL: "/login"}, status: 302, location: "/login?came_from=%2Fapp%2Fpage%3Fa%3D1"},
		{name: "login redirect keeps query", opts: Options{LoginURL: "/login?x=1"}, status: 302, location: "/login?x=1&came_from=%2Fapp%2Fpage%3Fa%3D1"},
		{name: "login required for POST", opts: Options{LoginURL: "/login"}, method: "POST", status: 401},
		{name: "login url with valid cookie", opts: Options{LoginURL: "/login"}, cookie: c.Sign("bob", t0), status: 200, body: "user=bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Cookie, o.Now = c, clock
			mw, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			now = t0.Add(tt.at)
			method := tt.method
			if method == "" {
				method = "GET"
			}
			r := httptest.NewRequest(method, "/page?a=1", nil)
			r = r.WithContext(mount.WithScriptName(r.Context(), "/app"))
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: DefaultName, Value: "garbage"})
				r.AddCookie(&http.Cookie{Name: DefaultName, Value: tt.cookie})
			}
			w := httptest.NewRecorder()
			mw(whoami).ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body = %q, want %q", w.Body.String(), tt.body)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			set := w.Result().Cookies()
			if tt.reissue != (len(set) == 1) {
				t.Fatalf("Set-Cookie = %v, want reissue %v", set, tt.reissue)
			}
			if tt.reissue {
				tk, ok := (&Cookie{Name: DefaultName, Secret: secret, Timeout: time.Hour}).Verify(set[0].Value, now)
				if !ok || tk.User != "alice" || !tk.Issued.Equal(now) {
					t.Errorf("reissued ticket = %+v, %v; want alice issued now under the current secret", tk, ok)
				}
				if !set[0].HttpOnly || set[0].Path != "/" || set[0].MaxAge != 3600 {
					t.Errorf("reissued cookie = %+v", set[0])
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	c := Cookie{Secret: secret}
	for _, o := range []Options{
		{Cookie: Cookie{Secret: "x"}},
		{Cookie: c, ReissueTime: -1},
		{Cookie: c, LoginURL: "::"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestSafeRedirect(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/app/page?a=1&b=2", "/app/page?a=1&b=2"},
		{"/a%20b#frag", "/a%20b#frag"},
		{"//evil.example/", "/"},
		{"/\\evil.example/", "/"},
		{"/a\\b", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/a\r\nSet-Cookie: x=y", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	}
	for _, tt := range tests {
		if got := safeRedirect(tt.in); got != tt.want {
			t.Errorf("safeRedirect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func testUsers(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte("alice:"+htpasswd.APR1("wonderland", "saltsalt")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLogin(t *testing.T) {
	users, err := htpasswd.Open(testUsers(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := testCookie()
	h, err := NewLogin(LoginOptions{Cookie: c, Users: users, Now: func() time.Time { return t0 }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		method   string
		target   string
		form     url.Values
		status   int
		contains []string
		absent   []string
		location string
		cookie   string // "set", "clear" or ""
		noCSRF   bool   // send no csrf_token
		header   map[string]string
	}{
		{name: "form", method: "GET", target: "/?came_from=/app/x%3Fa%3D1", status: 200,
			contains: []string{`<form method="post" action="/login/"`, `name="came_from" value="/app/x?a=1"`, `type="password"`}},
		{name: "form escapes came_from", method: "GET", target: `/?came_from=/"><script>alert(1)</script>`, status: 200,
			absent: []string{"<script>"}},
		{name: "form drops foreign came_from", method: "GET", target: "/?came_from=//evil.example/", status: 200,
			contains: []string{`name="came_from" value="/"`}, absent: []string{"evil"}},
		{name: "good login", method: "POST", target: "/", form: url.Values{"user": {"alice"}, "password": {"wonderland"}, "came_from": {"/app/x?a=1"}},
			status: 303, location: "/app/x?a=1", cookie: "set"},
		{name: "good login, foreign came_from", method: "POST", target: "/", form: url.Values{"user": {"alice"}, "password": {"wonderland"}, "came_from": {"https://evil.example/"}},
			status: 303, location: "/", cookie: "set"},
		{name: "wrong password", method: "POST", target: "/", form: url.Values{"user": {"alice"}, "password": {"nope"}, "came_from": {"/app"}},
			status: 401, contains: []string{"Wrong user name or password", `value="alice"`, `value="/app"`}},
		{name: "unknown user", method: "POST", target: "/", form: url.Values{"user": {"<b>mallory</b>"}, "password": {"x"}},
			status: 401, contains: []string{"&lt;b&gt;mallory"}, absent: []string{"<b>mallory"}},
		{name: "empty user", method: "POST", target: "/", form: url.Values{}, status: 401},
		{name: "logout by GET only shows a form", method: "GET", target: "/logout?came_from=/bye", status: 200,
			contains: []string{`<form method="post" action="/login/logout"`, "Log out", `name="came_from" value="/bye"`}},
		{name: "logout", method: "POST", target: "/logout", form: url.Values{}, status: 303, location: "/", cookie: "clear"},
		{name: "logout with came_from", method: "POST", target: "/logout", form: url.Values{"came_from": {"/bye"}}, status: 303, location: "/bye", cookie: "clear"},
		// Issue 12 item 7: login CSRF and logout CSRF.
		{name: "login without CSRF token", method: "POST", target: "/", form: url.Values{"user": {"alice"}, "password": {"wonderland"}},
			noCSRF: true, status: 403, contains: []string{"expired or came from another site"}},
		{name: "login with a forged CSRF token", method: "POST", target: "/", form: url.Values{"user": {"alice"}, "password": {"wonderland"}, "csrf_token": {"forged"}},
			noCSRF: true, status: 403},
		{name: "cross-site login", method: "POST", target: "/", form: url.Values{"user": {"alice"}, "password": {"wonderland"}},
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "cross-origin login by Origin", method: "POST", target: "/", form: url.Values{"user": {"alice"}, "password": {"wonderland"}},
			header: map[string]string{"Origin": "https://evil.example"}, status: 403},
		{name: "same-origin login", method: "POST", target: "/", form: url.Values{"user": {"alice"}, "password": {"wonderland"}},
			header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, status: 303, location: "/", cookie: "set"},
		{name: "logout without CSRF token", method: "POST", target: "/logout", form: url.Values{}, noCSRF: true, status: 403},
		{name: "cross-site logout", method: "POST", target: "/logout", form: url.Values{}, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "bad method", method: "DELETE", target: "/", status: 405},
		// A form reached by an unclean path must not post elsewhere:
		// action="//evil.example/" would send the password to that host.
		{name: "unclean path redirected", method: "GET", target: "//evil.example/", status: 301, location: "/login/evil.example/"},
	}
	csrfCookie, token := csrfPair(t, h)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.form != nil {
				form := url.Values{}
				for k, v := range tt.form {
					form[k] = v
				}
				if !tt.noCSRF {
					form.Set("csrf_token", token)
				}
				body = strings.NewReader(form.Encode())
			}
			r := httptest.NewRequest(tt.method, tt.target, body)
			if tt.form != nil {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			r.AddCookie(csrfCookie)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			r = r.WithContext(mount.WithScriptName(r.Context(), "/login"))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			for _, s := range tt.contains {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("body lacks %q:\n%s", s, w.Body)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(w.Body.String(), s) {
					t.Errorf("body has %q:\n%s", s, w.Body)
				}
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			set := w.Result().Cookies()
			switch tt.cookie {
			case "":
				if len(set) != 0 {
					t.Errorf("unexpected Set-Cookie %v", set)
				}
			case "set":
				if len(set) != 1 {
					t.Fatalf("Set-Cookie = %v", set)
				}
				if tk, ok := c.Verify(set[0].Value, t0); !ok || tk.User != "alice" {
					t.Errorf("cookie ticket = %+v, %v", tk, ok)
				}
			case "clear":
				if len(set) != 1 || set[0].MaxAge != -1 || set[0].Value != "" {
					t.Errorf("Set-Cookie = %v, want a cleared cookie", set)
				}
			}
		})
	}
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfPair GETs the login form from h and returns the CSRF cookie it sets
// and the token in the form.
func csrfPair(t *testing.T, h http.Handler) (*http.Cookie, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	cs := w.Result().Cookies()
	m := csrfInput.FindStringSubmatch(w.Body.String())
	if len(cs) != 1 || !strings.HasSuffix(cs[0].Name, "_csrf") || m == nil {
		t.Fatalf("login form: cookies %v, body\n%s", cs, w.Body)
	}
	if !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteLaxMode {
		t.Errorf("CSRF cookie %v: want HttpOnly, SameSite=Lax", cs[0])
	}
	return &http.Cookie{Name: cs[0].Name, Value: cs[0].Value}, m[1]
}

// TestLoginRoundTrip logs in through the login app and reaches a page
// behind the filter with the cookie it set, over a real server.
func TestLoginRoundTrip(t *testing.T) {
	users, err := htpasswd.Open(testUsers(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := Cookie{Secret: secret}
	login, err := NewLogin(LoginOptions{Cookie: c, Users: users, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mw, err := New(Options{Cookie: c, LoginURL: "/login/"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login/", http.StripPrefix("/login", login))
	mux.Handle("/", mw(whoami))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	jar := newJar()
	client := &http.Client{Jar: jar}
	resp, err := client.Get(srv.URL + "/private?x=1")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `value="/private?x=1"`) {
		t.Fatalf("GET /private = %d %s, want the login form", resp.StatusCode, page)
	}
	m := csrfInput.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the form:\n%s", page)
	}
	resp, err = client.PostForm(srv.URL+"/login/", url.Values{"user": {"alice"}, "password": {"wonderland"}, "came_from": {"/private?x=1"}, "csrf_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(page) != "user=alice" {
		t.Fatalf("after login: %d %q, want 200 user=alice", resp.StatusCode, page)
	}
	// GET /login/logout only shows the logout form; its POST logs out.
	resp, err = client.Get(srv.URL + "/login/logout")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp, err := client.Get(srv.URL + "/private"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after GET logout: %v %v", resp, err)
	} else if b, _ := io.ReadAll(resp.Body); string(b) != "user=alice" {
		t.Fatalf("GET /login/logout logged out: %q", b)
	}
	m = csrfInput.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the logout form:\n%s", page)
	}
	resp, err = client.PostForm(srv.URL+"/login/logout", url.Values{"csrf_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = client.Get(srv.URL + "/private")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "<form") {
		t.Errorf("after logout: %q, want the login form", page)
	}
}

func newConfig(kind registry.Kind, local map[string]string, file string) *registry.Config {
	var es []registry.Entry
	for k, v := range local {
		es = append(es, registry.Entry{Key: k, Value: v})
	}
	return registry.NewConfig(kind, "x:t", "t.ini:1", file, nil, es, nil, slog.New(slog.DiscardHandler))
}

func TestFilterFactory(t *testing.T) {
	tests := []struct {
		name    string
		keys    map[string]string
		wantKey string
	}{
		{name: "ok", keys: map[string]string{"secret": secret, "old_secrets": oldSecret + " " + oldSecret + "2", "timeout": "2h", "reissue_time": "600",
			"secure": "true", "httponly": "false", "cookie_name": "tkt", "login_url": "/login"}},
		{name: "minimal", keys: map[string]string{"secret": secret}},
		{name: "no secret", keys: map[string]string{}, wantKey: "secret"},
		{name: "short secret", keys: map[string]string{"secret": "short"}, wantKey: "secret"},
		{name: "short old secret", keys: map[string]string{"secret": secret, "old_secrets": "short"}, wantKey: "old_secrets"},
		{name: "bad timeout", keys: map[string]string{"secret": secret, "timeout": "soon"}, wantKey: "timeout"},
		{name: "bad reissue_time", keys: map[string]string{"secret": secret, "reissue_time": "-5"}, wantKey: "reissue_time"},
		{name: "bad secure", keys: map[string]string{"secret": secret, "secure": "maybe"}, wantKey: "secure"},
		{name: "bad httponly", keys: map[string]string{"secret": secret, "httponly": "2"}, wantKey: "httponly"},
		{name: "bad cookie_name", keys: map[string]string{"secret": secret, "cookie_name": "a b"}, wantKey: "cookie_name"},
		{name: "bad login_url", keys: map[string]string{"secret": secret, "login_url": "::"}, wantKey: "login_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConfig(registry.Filter, tt.keys, "/tmp/t.ini")
			mw, err := filterFactory(c)
			if tt.wantKey == "" {
				if err != nil || mw == nil {
					t.Fatal(err)
				}
				if u := c.Unread(); len(u) != 0 {
					t.Errorf("unread keys %v", u)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), `key "`+tt.wantKey+`"`) {
				t.Errorf("err = %v, want one naming key %q", err, tt.wantKey)
			}
		})
	}
}

func TestLoginFactory(t *testing.T) {
	users := testUsers(t)
	tests := []struct {
		name    string
		keys    map[string]string
		wantKey string
	}{
		{name: "ok", keys: map[string]string{"secret": secret, "htpasswd": users, "timeout": "1h", "secure": "yes", "httponly": "on", "cookie_name": "tkt", "logout_path": "/bye"}},
		{name: "no htpasswd", keys: map[string]string{"secret": secret}, wantKey: "htpasswd"},
		{name: "missing htpasswd", keys: map[string]string{"secret": secret, "htpasswd": users + "-nope"}, wantKey: "htpasswd"},
		{name: "no secret", keys: map[string]string{"htpasswd": users}, wantKey: "secret"},
		{name: "bad timeout", keys: map[string]string{"secret": secret, "htpasswd": users, "timeout": "x"}, wantKey: "timeout"},
		{name: "bad secure", keys: map[string]string{"secret": secret, "htpasswd": users, "secure": "x"}, wantKey: "secure"},
		{name: "bad httponly", keys: map[string]string{"secret": secret, "htpasswd": users, "httponly": "x"}, wantKey: "httponly"},
		{name: "bad cookie_name", keys: map[string]string{"secret": secret, "htpasswd": users, "cookie_name": "a=b"}, wantKey: "cookie_name"},
		{name: "bad logout_path", keys: map[string]string{"secret": secret, "htpasswd": users, "logout_path": "bye"}, wantKey: "logout_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConfig(registry.App, tt.keys, "/tmp/t.ini")
			h, err := loginFactory(c)
			if tt.wantKey == "" {
				if err != nil || h == nil {
					t.Fatal(err)
				}
				if u := c.Unread(); len(u) != 0 {
					t.Errorf("unread keys %v", u)
				}
				if w := c.Watched(); len(w) != 1 || w[0] != users {
					t.Errorf("Watched = %v", w)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), `key "`+tt.wantKey+`"`) {
				t.Errorf("err = %v, want one naming key %q", err, tt.wantKey)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"cookieauth", "egg:Paste#auth_tkt"} {
		if _, ok := registry.Default.Lookup(registry.Filter, name); !ok {
			t.Errorf("filter %q not registered", name)
		}
	}
	if _, ok := registry.Default.Lookup(registry.App, "login"); !ok {
		t.Error("app login not registered")
	}
}
