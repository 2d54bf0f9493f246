package peer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// built is the gopaste binary that Gopaste builds once per test binary.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Gopaste builds the gopaste command (github.com/gopaste/gopaste/cmd/gopaste)
// once per test binary and returns its path. The binary sits in a
// world-readable directory of its own, so a peer running as another user
// (Apache running it as a CGI program) can execute it; Main removes the
// directory when the tests are done. A failed build fails every test that
// asks for the binary.
func Gopaste(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "gopaste-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		if err := os.Chmod(dir, 0o755); err != nil {
			built.err = err
			return
		}
		path := filepath.Join(dir, "gopaste")
		out, err := exec.Command("go", "build", "-o", path, "github.com/gopaste/gopaste/cmd/gopaste").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.path = path
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// removeBuilt removes what Gopaste built.
func removeBuilt() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}
