package deploy

import (
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestServerDialectsDocumented: docs/wsgi.md's waitress and gunicorn
// sections name every key the code maps (in a table row or in the list
// of keys gopaste cannot honour; `prefix_*` covers a family), and every
// key in their tables is one the code knows.
func TestServerDialectsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/wsgi.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, d := range dialects {
		heading := "### The " + name + " server"
		start := strings.Index(doc, heading)
		if start < 0 {
			t.Fatalf("docs/wsgi.md has no %q section", heading)
		}
		section := doc[start+len(heading):]
		if end := strings.Index(section, "\n#"); end >= 0 {
			section = section[:end]
		}
		mentioned := map[string]bool{}
		for _, m := range regexp.MustCompile("`([a-z0-9_*]+)(?: = [^`]*)?`").FindAllStringSubmatch(section, -1) {
			mentioned[m[1]] = true
		}
		for key := range d.keys {
			found := mentioned[key]
			for pat := range mentioned {
				if ok, _ := path.Match(pat, key); ok && strings.Contains(pat, "*") {
					found = true
				}
			}
			if !found {
				t.Errorf("%s key %q is not in docs/wsgi.md's %s section", name, key, name)
			}
		}
		// The table's first column: the server's own keys.
		for _, line := range strings.Split(section, "\n") {
			if !strings.HasPrefix(line, "| `") {
				continue
			}
			first := strings.SplitN(line, "|", 3)[1]
			for _, m := range regexp.MustCompile("`([a-z0-9_]+)").FindAllStringSubmatch(first, -1) {
				if _, ok := d.keys[m[1]]; !ok {
					t.Errorf("docs/wsgi.md's %s table names %q, which the code does not map", name, m[1])
				}
			}
		}
	}
}
