package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Limits on what one gopaste package may allocate in its init (package
// variables and init functions). Registering factories takes a few
// dozen small allocations; parsing a template or compiling a regexp with
// a counted repetition takes hundreds (form's widgets took 1178, the
// session stores' table-name patterns 595 and 728).
const (
	maxInitAllocs = 100
	maxInitBytes  = 32 << 10
)

var initLine = regexp.MustCompile(`^init (\S+) @.*, (\d+) bytes, (\d+) allocs$`)

// TestInitIsCheap (issue 15): every gopaste process runs the init of
// every package the binary links, whatever its config uses, and pays for
// it in idle memory. Work a package needs only when its part is used
// (templates, regexps, tables) belongs in a sync.OnceValue. The figures
// come from the runtime's own accounting (GODEBUG=inittrace=1), which
// counts the same allocations on every run.
func TestInitIsCheap(t *testing.T) {
	cmd := exec.Command(gopasteBinary(t), "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gopaste version: %v\n%s", err, stderr.Bytes())
	}
	seen := 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil || !strings.HasPrefix(m[1], "github.com/gopaste/gopaste/") {
			continue
		}
		seen++
		bytes, _ := strconv.Atoi(m[2])
		allocs, _ := strconv.Atoi(m[3])
		if allocs > maxInitAllocs || bytes > maxInitBytes {
			t.Errorf("init of %s: %d allocations, %d bytes; want at most %d and %d: do the work on first use",
				m[1], allocs, bytes, maxInitAllocs, maxInitBytes)
		}
	}
	// The registry, cli and every part package have an init: far fewer
	// lines means the trace's format changed under this test.
	if seen < 20 {
		t.Fatalf("%d init lines of gopaste packages in the trace; want 20 or more:\n%s", seen, stderr.Bytes())
	}
}
