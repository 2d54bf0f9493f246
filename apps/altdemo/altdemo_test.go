package altdemo

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopaste/gopaste/form"
	"github.com/gopaste/gopaste/gopastetest"
	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/memstore"
	"github.com/gopaste/gopaste/traverse"
)

type users map[string]string

func (u users) Check(user, password string) bool { p, ok := u[user]; return ok && p == password }

// newApp serves the app behind a session filter with a memory store.
func newApp(t *testing.T, o Options) (*gopastetest.App, *App) {
	t.Helper()
	csrf, err := form.NewCSRF(form.CSRFOptions{Secret: "a secret of at least 16 bytes"})
	if err != nil {
		t.Fatal(err)
	}
	o.CSRF = csrf
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(memstore.Options{})
	t.Cleanup(func() { store.Close() })
	m, err := session.New(session.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	c := gopastetest.New(t, m.Handler(traverse.Handler(a)))
	c.Lint = true
	return c, a
}

// TestLoginFlow: the pages of Quixote's altdemo, through one session.
func TestLoginFlow(t *testing.T) {
	c, _ := newApp(t, Options{})
	c.Get("/").MustStatus(200).MustContain("Not logged in", `<span class="requests">1</span>`)
	c.Get("/").MustStatus(200).MustContain(`<span class="requests">2</span>`).MustHeader("Cache-Control", "no-store")
	login := c.Get("/login").MustStatus(200).MustContain(`name="csrf_token"`, `name="user"`).MustNotContain(`name="password"`)
	// An empty name is refused and the form comes back.
	login.Form("").Submit("login").MustStatus(200).MustContain("This field is required.")
	done := c.Get("/login").Form("").Set("user", "<ann>").Submit("login")
	done.MustStatus(303).MustHeader("Location", "/")
	// The name is escaped wherever it shows.
	c.Get("/").MustStatus(200).MustContain(`Logged in as <strong class="user">&lt;ann&gt;</strong>`,
		`<span class="requests">7</span>`).MustNotContain("<ann>")
	c.Get("/sessions").MustStatus(200).MustContain(`<tr class="current">`, "<td>&lt;ann&gt;</td><td>8</td>")
	ctx := c.Get("/context").MustStatus(200).MustContain(
		"<th>REMOTE_USER</th><td>&lt;ann&gt;</td>", "<th>PATH_INFO</th><td>/context</td>",
		"<th>session</th><td>43 characters, not shown</td>", "<th>altdemo.requests</th><td><code>9</code></td>",
		"<th>gopaste.csrf</th><td><code>(hidden)</code></td>")
	// Credentials in headers are masked.
	c.Header.Set("Authorization", "Basic YWxpY2U6d29uZGVybGFuZA==")
	c.Get("/context").MustStatus(200).MustContain("<th>HTTP_AUTHORIZATION</th><td>********</td>").MustNotContain("YWxpY2U6")
	c.Header.Del("Authorization")
	// The session's token is never shown.
	tok, ok := c.Cookie("/", "session")
	if !ok || tok == "" {
		t.Fatal("no session cookie")
	}
	ctx.MustNotContain(tok)
	out := c.Get("/logout").MustStatus(200).MustContain("Log out").Form("").Submit("logout")
	out.MustStatus(303).MustHeader("Location", "/")
	c.Get("/").MustStatus(200).MustContain("Not logged in", `<span class="requests">1</span>`)
	// The logged-out session left the table.
	c.Get("/sessions").MustStatus(200).MustNotContain("&lt;ann&gt;")
}

// TestPassword: with Users, the form asks for a password and checks it.
func TestPassword(t *testing.T) {
	c, _ := newApp(t, Options{Users: users{"alice": "wonderland"}})
	f := c.Get("/login").MustStatus(200).MustContain(`name="password"`).Form("")
	f.Set("user", "alice").Set("password", "nope").Submit("login").
		MustStatus(401).MustContain("Unknown user or wrong password.", `value="alice"`).MustNotContain("nope")
	c.Get("/login").Form("").Set("user", "bob").Set("password", "wonderland").Submit("login").MustStatus(401)
	c.Get("/login").Form("").Set("user", "alice").Set("password", "wonderland").Submit("login").MustStatus(303)
	c.Get("/").MustContain(`Logged in as <strong class="user">alice</strong>`)
}

// TestForgedPost: a login without the form's token, or from another
// site, is refused; the session stays anonymous.
func TestForgedPost(t *testing.T) {
	c, _ := newApp(t, Options{})
	c.Get("/")
	c.PostForm("/login", map[string][]string{"user": {"eve"}, "login": {""}}).
		MustStatus(200).MustContain(form.ExpiredMessage)
	f := c.Get("/login").Form("").Set("user", "eve")
	c.Header.Set("Sec-Fetch-Site", "cross-site")
	f.Submit("login").MustStatus(200).MustContain(form.ExpiredMessage)
	c.Header.Del("Sec-Fetch-Site")
	c.Get("/").MustContain("Not logged in")
	// Logging out takes the form too.
	c.PostForm("/logout", map[string][]string{"logout": {""}}).MustStatus(200).MustContain(form.ExpiredMessage)
}

func TestTraversal(t *testing.T) {
	c, _ := newApp(t, Options{})
	c.Get("/nothing").MustStatus(404)
	c.Get("/login/x").MustStatus(404)
}

// TestNoSessionFilter: without the filter the app says what it needs.
func TestNoSessionFilter(t *testing.T) {
	csrf, _ := form.NewCSRF(form.CSRFOptions{Secret: "a secret of at least 16 bytes"})
	a, err := New(Options{CSRF: csrf})
	if err != nil {
		t.Fatal(err)
	}
	gopastetest.New(t, traverse.Handler(a)).Get("/").MustStatus(500).MustContain("needs the session filter")
	if _, err := New(Options{}); err == nil {
		t.Error("New without CSRF: no error")
	}
}

func TestTableBound(t *testing.T) {
	tb := NewTable(2)
	now := time.Now()
	for i, id := range []string{"a", "b", "c"} {
		tb.Note(Row{ID: id, Seen: now.Add(time.Duration(i) * time.Second)})
	}
	rows := tb.Rows()
	if len(rows) != 2 || rows[0].ID != "c" || rows[1].ID != "b" {
		t.Errorf("rows = %+v, want c, b", rows)
	}
	tb.Forget("c")
	if rows := tb.Rows(); len(rows) != 1 || rows[0].ID != "b" {
		t.Errorf("after Forget: %+v", rows)
	}
}

// TestFactory: the ini keys, with the htpasswd file the docs use.
func TestFactory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "users.htpasswd"), []byte("alice:$apr1$deHYcRdH$sq1ri8lxiCzivRaz8c8p51\n"), 0o644)
	ini := filepath.Join(dir, "site.ini")
	os.WriteFile(ini, []byte(`
[pipeline:main]
pipeline = session demo

[filter:session]
use = session

[app:demo]
use = altdemo
secret = a secret of at least 16 bytes
htpasswd = %(here)s/users.htpasswd
max_sessions = 10
`), 0o644)
	c := gopastetest.LoadConfig(t, ini, "main")
	c.Get("/login").MustStatus(200).Form("").Set("user", "alice").Set("password", "wonderland").Submit("login").MustStatus(303)
	c.Get("/").MustStatus(200).MustContain("alice")
}
