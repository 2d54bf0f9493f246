package docs_test

import (
	"strings"
	"testing"
)

// TestFrameworkQuotesTestedCode: every ```go and ```html block of
// framework.md is found verbatim in docs/framework/ (the guestbook its
// tests run), and the page shows each package at work.
func TestFrameworkQuotesTestedCode(t *testing.T) {
	all := quotesTested(t, "framework.md", "framework", 8)
	for _, call := range []string{
		"traverse.Dir{", "Lookup:", "Access:", "traverse.LoginRedirect(", "s.Dir.Traverse(",
		"form.New(", "f.HasErrors()", "SetFile(", "tmpl.New(", "tmpl.Builder", `{{block "content" .}}`,
	} {
		if !strings.Contains(all, call) {
			t.Errorf("framework.md quotes no code with %s", call)
		}
	}
}
