package docs_test

import (
	"strings"
	"testing"
)

// TestTutorialQuotesTestedCode: every ```go, ```html and ```conf block
// of tutorial.md is found verbatim in docs/tutorial/ (the site whose
// tests run each step), and the page shows each step's code.
func TestTutorialQuotesTestedCode(t *testing.T) {
	all := quotesTested(t, "tutorial.md", "tutorial", 12)
	for _, call := range []string{
		"registry.RegisterApp(", "cli.Main(", "traverse.Dir{", "form.New(", "form.NewCSRF(",
		"s.RenewToken(", "s.SetUser(", "session.From(", "tmpl.New(", "use = session", "gopastetest.LoadConfig(",
	} {
		if !strings.Contains(all, call) {
			t.Errorf("tutorial.md quotes no code with %s", call)
		}
	}
}
