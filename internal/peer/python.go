package peer

import (
	"os/exec"
	"strings"
	"testing"
)

// RequirePython returns the path of Debian's python3 (see [Find]) after
// checking that it imports every module given ("flask", "django",
// "paste.deploy"). When python3 or a module is missing the test is
// skipped, or failed when CI=true, naming the module.
func RequirePython(t testing.TB, modules ...string) string {
	t.Helper()
	py := Require(t, "python3")
	if len(modules) == 0 {
		return py
	}
	code := "import " + strings.Join(modules, ", ")
	if out, err := exec.Command(py, "-c", code).CombinedOutput(); err != nil {
		Missing(t, "%s cannot %q (Debian packages python3-<module>): %v\n%s", py, code, err, out)
	}
	return py
}
