package docs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
)

// TestEveryPartIsDocumented: each registered app, composite, filter and
// server is named in backquotes somewhere in docs/*.md, and has at least
// one example that builds it (an ```ini block with use = NAME or an
// alias), so no part ships without a page and a tested example.
func TestEveryPartIsDocumented(t *testing.T) {
	var all strings.Builder
	mds, _ := filepath.Glob("*.md")
	for _, md := range mds {
		b, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	text := all.String()
	var exs strings.Builder
	for _, ex := range examples(t) {
		exs.WriteString(ex.text)
	}
	used := exs.String()
	// Parts that only make sense inside the built-in demo.
	internal := map[string]bool{"demo_home": true, "demo_files": true}
	checked := 0
	for _, k := range []registry.Kind{registry.App, registry.Composite, registry.Filter, registry.ServerKind} {
		for _, p := range registry.Default.Parts(k) {
			if internal[p.Name] {
				continue
			}
			checked++
			if !strings.Contains(text, "`"+p.Name+"`") {
				t.Errorf("%s %q is not documented in docs/*.md", k, p.Name)
			}
			found := false
			for _, n := range append([]string{p.Name}, p.Aliases...) {
				if strings.Contains(used, "use = "+n+"\n") {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %q has no ```ini example in docs/*.md that uses it", k, p.Name)
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d parts registered: is builtin imported?", checked)
	}
}
