package traverse_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/traverse"
)

// FuzzSplit: Split never panics, gives one component per slash, and
// escaping its components back gives a path that splits the same.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"", "/", "/a/b/", "/a%2Fb/c", "/a%zz", "/%00", "//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		cs, ok := traverse.Split(p)
		if !ok {
			return
		}
		if p == "" {
			if len(cs) != 0 {
				t.Fatalf("Split(\"\") = %q", cs)
			}
			return
		}
		if want := strings.Count(strings.TrimPrefix(p, "/"), "/") + 1; len(cs) != want {
			t.Fatalf("Split(%q) = %d components, want %d", p, len(cs), want)
		}
		var b strings.Builder
		for _, c := range cs {
			b.WriteString("/" + url.PathEscape(c))
		}
		again, ok := traverse.Split(b.String())
		if !ok || strings.Join(again, "\x00") != strings.Join(cs, "\x00") {
			t.Fatalf("Split(%q) = %q; re-escaped %q splits to %q", p, cs, b.String(), again)
		}
	})
}
