package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchitectureMapsEveryPackage: every directory of the module holding
// Go files (a package, or tests only) is named in backquotes in
// architecture.md's package map, so a newcomer finds every package there
// and a new package cannot be added without its line.
func TestArchitectureMapsEveryPackage(t *testing.T) {
	page, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]bool{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != ".." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || filepath.Dir(path) == ".." {
			return nil
		}
		dirs[filepath.ToSlash(filepath.Dir(strings.TrimPrefix(path, ".."+string(filepath.Separator))))] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 50 {
		t.Errorf("only %d package directories found; is the walk right?", len(dirs))
	}
	for dir := range dirs {
		if !strings.Contains(string(page), "| `"+dir+"` |") {
			t.Errorf("package %s has no line in docs/architecture.md's package map", dir)
		}
	}
}
