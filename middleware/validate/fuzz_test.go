package validate

import (
	"strings"
	"testing"
)

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"<html><body><p>x</body></html>", "<div/><img></img>", `<a href="x>`, "<!-- x",
		"<script>a</scr", "<b><i>x</b></i>", "</p>", "< <a <!-", "<DIV>\n</div>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		ps := Check(doc)
		if len(ps) > MaxProblems {
			t.Fatalf("%d problems", len(ps))
		}
		lines := strings.Count(string(doc), "\n") + 1
		for _, p := range ps {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem line %d outside 1..%d", p.Line, lines)
			}
		}
		c := string(Comment(ps))
		if strings.Contains(c[len("\n<!--"):len(c)-len("-->\n")], "--") {
			t.Fatalf("comment text contains --: %q", c)
		}
	})
}
