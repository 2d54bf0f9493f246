package docs_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// quotedRe matches a ```go, ```conf or ```html block: its body is group 1.
var quotedRe = regexp.MustCompile("(?ms)^```(?:go|conf|html)\n(.*?)^```$")

// quoted returns the ```go, ```conf and ```html blocks of a page by the
// line each starts on.
func quoted(t *testing.T, page string) map[int]string {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[int]string{}
	for _, m := range quotedRe.FindAllSubmatchIndex(b, -1) {
		line := bytes.Count(b[:m[2]], []byte("\n")) + 1
		blocks[line] = string(b[m[2]:m[3]])
	}
	return blocks
}

// TestExtendingQuotesTestedCode: every ```go and ```conf block of
// extending.md is found verbatim in a file under extending/ (the example
// parts, their tests and config, the example binary), whose tests build
// and run them; so the page cannot show code that does not compile or
// does not work. The page must show the registration of each kind.
func TestExtendingQuotesTestedCode(t *testing.T) {
	all := quotesTested(t, "extending.md", "extending", 10)
	for _, call := range []string{
		"registry.RegisterApp(", "registry.RegisterFilter(", "registry.RegisterServer(",
		"registry.RegisterProtocol(", "session.RegisterStore(", "registry.Shared(",
		"storetest.Run(", "registry.New()",
	} {
		if !strings.Contains(all, call) {
			t.Errorf("extending.md quotes no code calling %s", call)
		}
	}
}

// quotesTested checks that every ```go, ```conf and ```html block of page (at
// least min of them) is found verbatim in a file under dir, and returns
// the blocks' text.
func quotesTested(t *testing.T, page, dir string, min int) string {
	t.Helper()
	var files []string
	var all strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files = append(files, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	blocks := quoted(t, page)
	if len(blocks) < min {
		t.Fatalf("%s has %d quoted blocks; is it the page it was?", page, len(blocks))
	}
	for line, b := range blocks {
		all.WriteString(b)
		found := false
		for _, f := range files {
			if strings.Contains(f, b) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s:%d: block not found verbatim in docs/%s/:\n%s", page, line, dir, b)
		}
	}
	return all.String()
}
