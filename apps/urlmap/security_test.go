package urlmap_test

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/gopaste/gopaste/apps/static"
	_ "github.com/gopaste/gopaste/apps/urlmap"
	"github.com/gopaste/gopaste/auth/htpasswd"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/gopastetest"
	_ "github.com/gopaste/gopaste/middleware/basicauth"
)

// adminSite writes the config of issue 12 item 1: / = files (static of
// site/) and /admin = basicauth + static of site/admin, so the file is
// reachable through both branches and only routing keeps it behind auth.
func adminSite(t *testing.T) *gopastetest.App {
	t.Helper()
	return gopastetest.LoadConfig(t, adminConfig(t), "main")
}

func adminConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"site/index.html":            "public",
		"site/admin/secret.txt":      "TOP SECRET",
		"site/admin/sub/secret2.txt": "TOP SECRET 2",
		"users.htpasswd":             "alice:" + htpasswd.SHA1("wonderland") + "\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ini := `[composite:main]
use = egg:Paste#urlmap
/ = files
/admin = adminfiles

[app:files]
use = egg:Paste#static
document_root = %(here)s/site

[pipeline:adminfiles]
pipeline = auth adminstatic

[filter:auth]
use = basicauth
htpasswd = %(here)s/users.htpasswd

[app:adminstatic]
use = egg:Paste#static
document_root = %(here)s/site/admin
`
	path := filepath.Join(dir, "site.ini")
	if err := os.WriteFile(path, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestURLMapAuthBypassIssue12 pins issue 12 item 1: //admin/secret.txt,
// /./admin/secret.txt and /x/../admin/secret.txt reached the static app
// behind basicauth without credentials. Every spelling of the admin path
// either redirects to the clean path or is answered by the admin branch
// (401); none gets the file.
func TestURLMapAuthBypassIssue12(t *testing.T) {
	app := adminSite(t)
	for _, tc := range []struct {
		target string
		code   int
		loc    string
	}{
		{"/admin/secret.txt", 401, ""},
		{"//admin/secret.txt", 301, "/admin/secret.txt"},
		{"///admin//secret.txt", 301, "/admin/secret.txt"},
		{"/./admin/secret.txt", 301, "/admin/secret.txt"},
		{"/x/../admin/secret.txt", 301, "/admin/secret.txt"},
		{"/admin/../admin/secret.txt", 301, "/admin/secret.txt"},
		{"/%2fadmin/secret.txt", 301, "/admin/secret.txt"},
		{"/%2e/admin/secret.txt", 301, "/admin/secret.txt"},
		{"/x/%2e%2e/admin/secret.txt", 301, "/admin/secret.txt"},
		{"/x%2f..%2fadmin/secret.txt", 301, "/admin/secret.txt"},
		{"/admin%2fsecret.txt", 401, ""},
		{"/%61dmin/secret.txt", 401, ""},
		{"/admin/sub/../secret.txt", 301, "/admin/secret.txt"},
		{"/admin/./sub/secret2.txt", 301, "/admin/sub/secret2.txt"},
		{"/%5cadmin/secret.txt", 404, ""},
		{`/\admin/secret.txt`, 404, ""},
	} {
		for _, method := range []string{"GET", "POST"} {
			t.Run(method+" "+tc.target, func(t *testing.T) {
				code := tc.code
				if method == "POST" && code == 301 {
					code = 308
				}
				if method == "POST" && code == 404 {
					code = 405 // static answers POST with 405
				}
				resp := app.Do(httptest.NewRequest(method, tc.target, nil))
				if resp.Status != code {
					t.Errorf("status %d, want %d\n%s", resp.Status, code, resp)
				}
				if strings.Contains(resp.Body, "SECRET") {
					t.Errorf("secret served without credentials\n%s", resp)
				}
				if loc := resp.Header.Get("Location"); loc != tc.loc {
					t.Errorf("Location %q, want %q", loc, tc.loc)
				}
			})
		}
	}
	// Following every redirect still ends at the challenge.
	app.FollowRedirects = true
	for _, target := range []string{"//admin/secret.txt", "/x/../admin/secret.txt", "/%2e/admin/./secret.txt"} {
		if resp := app.Do(httptest.NewRequest("GET", target, nil)); resp.Status != 401 {
			t.Errorf("GET %s followed: %d\n%s", target, resp.Status, resp)
		}
	}
	// With the password the file is there.
	app.Header.Set("Authorization", "Basic "+basic("alice", "wonderland"))
	app.Get("/admin/secret.txt").MustStatus(200).MustContain("TOP SECRET")
	resp := app.Do(httptest.NewRequest("GET", "/x/../admin/secret.txt", nil))
	resp.MustStatus(200).MustContain("TOP SECRET")
}

// TestRouteReportsUncleanPathIssue12: "gopaste route" says an unclean
// path is redirected, as serving it does, instead of matching it.
func TestRouteReportsUncleanPathIssue12(t *testing.T) {
	app, err := deploy.BuildApp(adminConfig(t), "main", deploy.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var b strings.Builder
	app.Route(&b, httptest.NewRequest("GET", "//admin/secret.txt", nil))
	if !strings.Contains(b.String(), "path is not clean: redirect to /admin/secret.txt") || strings.Contains(b.String(), "adminstatic") {
		t.Errorf("route of //admin/secret.txt:\n%s", b.String())
	}
	b.Reset()
	app.Route(&b, httptest.NewRequest("GET", "/admin/secret.txt", nil))
	if !strings.Contains(b.String(), "[filter:auth]") {
		t.Errorf("route of /admin/secret.txt:\n%s", b.String())
	}
}

func basic(user, pass string) string {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
