package example

import (
	"net/http"
	"testing"

	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/gopastetest"
	"github.com/gopaste/gopaste/traverse"
)

func newApp(t *testing.T) *gopastetest.App {
	t.Helper()
	site, err := New("a secret of at least 16 bytes", false)
	if err != nil {
		t.Fatal(err)
	}
	// A stand-in for the cookieauth filter: the X-User header is the
	// logged-in user.
	withUser := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-User"); u != "" {
			r = r.WithContext(auth.WithUser(r.Context(), u))
		}
		traverse.Handler(site).ServeHTTP(w, r)
	})
	app := gopastetest.New(t, withUser)
	app.Lint = true
	return app
}

func TestSignTheGuestbook(t *testing.T) {
	app := newApp(t)
	app.Get("/").MustStatus(200).MustContain("<title>Guestbook</title>")
	sign := app.Get("/sign").MustStatus(200).MustContain(`enctype="multipart/form-data"`, `name="csrf_token"`)
	// A missing message and a file that is no PNG: the form comes back
	// with the name as typed and both errors.
	bad := sign.Form("").Set("name", "<Ann>").SetFile("photo", "cat.png", []byte("GIF89a")).Submit("send")
	bad.MustStatus(200).MustContain(`value="&lt;Ann&gt;"`, "This field is required.", "This is not a PNG file.")
	// Fixed: the entry is added and shown escaped.
	done := bad.Form("").Set("message", "Hi <script>").SetFile("photo", "cat.png", []byte("\x89PNG\r\n\x1a\nrest")).Submit("send")
	done.MustStatus(303).MustHeader("Location", "/")
	done = done.FollowRedirect()
	done.MustStatus(200).MustContain("<li>&lt;Ann&gt;: Hi &lt;script&gt;</li>").MustNotContain("<script>")
	app.Get("/entry/1").MustStatus(200).MustContain("<title>Entry 1</title>", "<blockquote>Hi &lt;script&gt;</blockquote><p>— &lt;Ann&gt; (with cat.png)</p>")
	app.Get("/entry/2").MustStatus(404)
}

func TestTraversal(t *testing.T) {
	app := newApp(t)
	app.Get("/entry").MustStatus(301).MustHeader("Location", "/entry/")
	app.Get("/entry/x").MustStatus(404)
	app.Get("/admin/").MustStatus(303).MustHeader("Location", "/login?came_from=%2Fadmin%2F")
	app.Header.Set("X-User", "ann")
	app.Get("/admin/").MustStatus(200).MustContain("admin for ann")
}

// TestReadOnly: the overriding Traverse diverts the form while the site
// is read-only, and adds its header to every response.
func TestReadOnly(t *testing.T) {
	site, err := New("a secret of at least 16 bytes", false)
	if err != nil {
		t.Fatal(err)
	}
	app := gopastetest.New(t, traverse.Handler(site))
	app.Get("/sign").MustStatus(200).MustHeader("X-Frame-Options", "DENY").MustContain("Your name")
	site.ReadOnly.Store(true)
	app.Get("/sign").MustStatus(200).MustContain("closed for signing").MustNotContain("Your name")
	app.Get("/").MustStatus(200).MustHeader("X-Frame-Options", "DENY").MustContain("<h1>Guestbook</h1>")
}

// TestCrossSiteRefused: a form posted from another site is refused.
func TestCrossSiteRefused(t *testing.T) {
	app := newApp(t)
	f := app.Get("/sign").Form("").Set("name", "Eve").Set("message", "hi")
	app.Header.Set("Sec-Fetch-Site", "cross-site")
	f.Submit("send").MustStatus(200).MustContain("The form expired or came from another site")
	app.Header.Del("Sec-Fetch-Site")
	app.Get("/").MustNotContain("Eve")
}

// TestDebugTemplates: New with debug on works (the templates are
// embedded, so they read the same).
func TestDebugTemplates(t *testing.T) {
	site, err := New("a secret of at least 16 bytes", true)
	if err != nil {
		t.Fatal(err)
	}
	gopastetest.New(t, traverse.Handler(site)).Get("/").MustStatus(200).MustContain("<h1>Guestbook</h1>")
}
