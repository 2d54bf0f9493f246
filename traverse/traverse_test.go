package traverse_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/traverse"
)

func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, s) })
}

// tree is the site the table runs against.
func tree() http.Handler {
	post := func(id int) http.Handler {
		return traverse.Handler(&traverse.Dir{Exports: map[string]http.Handler{
			"":         text(fmt.Sprintf("post %d", id)),
			"comments": text(fmt.Sprintf("comments of %d", id)),
		}})
	}
	blog := &traverse.Dir{
		Exports: map[string]http.Handler{"": text("blog index")},
		Lookup: func(r *http.Request, c string) http.Handler {
			if id, err := strconv.Atoi(c); err == nil {
				return post(id)
			}
			if strings.Contains(c, "/") {
				return text("slashed " + c)
			}
			return nil
		},
	}
	admin := &traverse.Dir{
		Exports: map[string]http.Handler{"": text("admin index")},
		Access: func(r *http.Request) error {
			if r.Header.Get("X-User") == "" {
				return traverse.LoginRedirect(r, "/login")
			}
			if r.Header.Get("X-User") != "root" {
				return fmt.Errorf("user %s is not root", r.Header.Get("X-User"))
			}
			return nil
		},
	}
	hidden := &traverse.Dir{
		Exports: map[string]http.Handler{"": text("secret")},
		Access:  func(*http.Request) error { return fmt.Errorf("closed: %w", traverse.ErrNotFound) },
	}
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "file %s under %s", r.URL.Path, mount.ScriptName(r.Context()))
	})
	anyDir := &traverse.Dir{
		Lookup: func(r *http.Request, c string) http.Handler {
			return traverse.Handler(&traverse.Dir{Exports: map[string]http.Handler{"": text("dir " + c)}})
		},
	}
	return traverse.Handler(&traverse.Dir{Exports: map[string]http.Handler{
		"":       text("home"),
		"about":  text("about"),
		"blog":   traverse.Handler(blog),
		"admin":  traverse.Handler(admin),
		"hidden": traverse.Handler(hidden),
		"static": traverse.Mount(files),
		"any":    traverse.Handler(anyDir),
	}})
}

func TestTraverse(t *testing.T) {
	h := tree()
	for _, tc := range []struct {
		method, target, script, user string
		code                         int
		body, loc                    string
	}{
		{target: "/", code: 200, body: "home"},
		{target: "/about", code: 200, body: "about"},
		{target: "/about/", code: 404},
		{target: "/about/x", code: 404},
		{target: "/nope", code: 404},
		{target: "/blog", code: 301, loc: "/blog/"},
		{target: "/blog?x=1&y=%2F", code: 301, loc: "/blog/?x=1&y=%2F"},
		{method: "POST", target: "/blog", code: 308, loc: "/blog/"},
		{target: "/blog/", code: 200, body: "blog index"},
		{target: "/blog/42", code: 301, loc: "/blog/42/"},
		{target: "/blog/42/", code: 200, body: "post 42"},
		{target: "/blog/42/comments", code: 200, body: "comments of 42"},
		{target: "/blog/42/comments/", code: 404},
		{target: "/blog/abc", code: 404},
		{target: "/blog/a%2Fb", code: 200, body: "slashed a/b"},
		{target: "//blog/", code: 301, loc: "/blog/"},
		{target: "/blog/../about", code: 301, loc: "/about"},
		// Access runs before the slash redirect and the index.
		{target: "/admin/", code: 303, loc: "/login?came_from=%2Fadmin%2F"},
		{target: "/admin", code: 303, loc: "/login?came_from=%2Fadmin"},
		{target: "/admin/?q=1", code: 303, loc: "/login?came_from=%2Fadmin%2F%3Fq%3D1"},
		{target: "/admin/", user: "bob", code: 403},
		{target: "/admin/", user: "root", code: 200, body: "admin index"},
		{target: "/admin", user: "root", code: 301, loc: "/admin/"},
		{target: "/hidden/", code: 404},
		{target: "/hidden", code: 404},
		{target: "/static/css/a.css", code: 200, body: "file /css/a.css under /static"},
		{target: "/static/", code: 200, body: "file / under /static"},
		{target: "/static", code: 301, loc: "/static/"},
		// Under a mount: redirects keep the script name.
		{target: "", script: "/app", code: 301, loc: "/app/"},
		{target: "/blog", script: "/app", code: 301, loc: "/app/blog/"},
		{target: "/static/x", script: "/app", code: 200, body: "file /x under /app/static"},
		{target: "/admin/", script: "/app", code: 303, loc: "/login?came_from=%2Fapp%2Fadmin%2F"},
		// Escaped slashes are cleaned like others (mount.Canonical).
		{target: "/any/%2F%2Fevil.example", code: 301, loc: "/any/evil.example"},
		{target: "/any/x%2Fy/", code: 200, body: "dir x/y"},
		{target: "/a%00b", code: 400},
	} {
		if tc.method == "" {
			tc.method = "GET"
		}
		t.Run(tc.method+" "+tc.script+tc.target, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/", nil)
			if tc.target == "" {
				r.URL.Path = ""
			} else {
				r = httptest.NewRequest(tc.method, tc.target, nil)
			}
			if tc.script != "" {
				r = r.WithContext(mount.WithScriptName(r.Context(), tc.script))
			}
			if tc.user != "" {
				r.Header.Set("X-User", tc.user)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d; body %q", w.Code, tc.code, w.Body)
			}
			if tc.body != "" && w.Body.String() != tc.body {
				t.Errorf("body %q, want %q", w.Body, tc.body)
			}
			loc := w.Header().Get("Location")
			if loc != tc.loc {
				t.Errorf("Location %q, want %q", loc, tc.loc)
			}
			if strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) {
				t.Errorf("Location %q leaves the site", loc)
			}
			if tc.code == 403 && strings.Contains(w.Body.String(), "root") {
				t.Errorf("403 shows the Access error: %q", w.Body)
			}
		})
	}
}

// TestRedirectSlashStaysOnSite: a Traverse of one's own that redirects
// outside Handler (on a path not made canonical) still never names
// another host.
func TestRedirectSlashStaysOnSite(t *testing.T) {
	for path, want := range map[string]string{
		"//evil.example": "/evil.example/",
		`/\evil.example`: "/%5Cevil.example/",
		"":               "/",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = path
		w := httptest.NewRecorder()
		traverse.RedirectSlash(w, r)
		if got := w.Header().Get("Location"); got != want || w.Code != 301 {
			t.Errorf("%q: %d %q, want 301 %q", path, w.Code, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"/", []string{""}, true},
		{"/a/b/", []string{"a", "b", ""}, true},
		{"/a%2Fb/c", []string{"a/b", "c"}, true},
		{"/a%zz", nil, false},
	} {
		got, ok := traverse.Split(tc.in)
		if ok != tc.ok || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("Split(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestHandlerNilLookup: a Dir with neither exports nor lookup answers
// 404 below it, and its own path without a slash is redirected.
func TestHandlerEmptyDir(t *testing.T) {
	h := traverse.Handler(&traverse.Dir{})
	for target, code := range map[string]int{"/": 404, "/x": 404} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if w.Code != code {
			t.Errorf("%s: %d, want %d", target, w.Code, code)
		}
	}
}
