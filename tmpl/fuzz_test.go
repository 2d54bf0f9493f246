package tmpl_test

import (
	"strings"
	"testing"

	"github.com/gopaste/gopaste/tmpl"
)

// FuzzURL: URL returns its input or "#ZgotmplZ", and what it returns
// never has a scheme other than http, https or mailto.
func FuzzURL(f *testing.F) {
	for _, s := range []string{"/a", "https://x/", "javascript:alert(1)", " JaVaScRiPt:x", "java\tscript:x", "data:x", "a/b:c", "?x:y", "#a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		got := tmpl.URL(u)
		if got == "#ZgotmplZ" {
			return
		}
		if got != u {
			t.Fatalf("URL(%q) = %q", u, got)
		}
		s := strings.TrimSpace(u)
		if i := strings.IndexAny(s, ":/?#"); i >= 0 && s[i] == ':' {
			switch strings.ToLower(s[:i]) {
			case "http", "https", "mailto":
			default:
				t.Fatalf("URL(%q) kept scheme %q", u, s[:i])
			}
		}
	})
}

// FuzzBuilder: nothing added as text comes out as markup.
func FuzzBuilder(f *testing.F) {
	for _, s := range xss {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b tmpl.Builder
		b.Add(s)
		if strings.ContainsAny(b.String(), `<>"'`) {
			t.Fatalf("Add(%q) = %q", s, b.String())
		}
	})
}
