package rewrite

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{`^/a$ /b`, `^/(.*)$ /x/$1 301`, `( /x`, `^/a$ http://x/ 308`, "a b c d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s, 0)
		if err != nil {
			return
		}
		if r.validate() != nil {
			t.Fatalf("ParseRule(%q) returned an invalid rule", s)
		}
	})
}

// FuzzRedirect checks that no request path turns a rule whose target is a
// path into a redirect off the site.
func FuzzRedirect(f *testing.F) {
	for _, s := range []string{"/go//evil", "/go/%5C%5Cevil", "/go/a?b", "/go/\\/evil"} {
		f.Add(s)
	}
	mw, err := New(Options{Rules: []Rule{{Pattern: mustCompile(`^/go/(.*)$`), Target: "/$1", Status: 302}}})
	if err != nil {
		f.Fatal(err)
	}
	h := mw(http.NotFoundHandler())
	f.Fuzz(func(t *testing.T, path string) {
		u := &url.URL{Path: path}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = u
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		loc := w.Header().Get("Location")
		if loc == "" {
			return
		}
		if strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) || !strings.HasPrefix(loc, "/") {
			t.Fatalf("path %q redirected to %q", path, loc)
		}
		if lu, err := url.Parse(loc); err == nil && lu.Host != "" {
			t.Fatalf("path %q redirected off site to %q", path, loc)
		}
	})
}
