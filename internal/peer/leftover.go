package peer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ownerEnv marks every process a test package starts (through the
// environment it inherits) with the pid of the test binary.
const ownerEnv = "GOPASTE_TEST_OWNER"

// Main runs a test package's tests (call it from TestMain as
// os.Exit(peer.Main(m))) and then fails the package when a process its
// tests started is still running a few seconds later: a child the tests
// did not stop, or an orphan (parent pid 1) that escaped its group. It
// finds them by ownerEnv, which it sets to this binary's pid before the
// tests run and which every child inherits.
func Main(m *testing.M) int {
	os.Setenv(ownerEnv, strconv.Itoa(os.Getpid()))
	code := m.Run()
	defer removeBuilt()
	var left []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		left = Leftovers()
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: processes started by the tests are still running:\n\t%s\n", strings.Join(left, "\n\t"))
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Leftovers lists ("pid ppid=N command line") the live processes other
// than this one whose environment holds ownerEnv with this binary's pid.
func Leftovers() []string {
	mark := []byte(ownerEnv + "=" + strconv.Itoa(os.Getpid()) + "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var left []string
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(d + "/environ")
		if err != nil || !bytes.Contains(append(env, 0), mark) {
			continue // gone, not ours, or a zombie (empty environ)
		}
		stat, _ := os.ReadFile(d + "/stat")
		ppid := "?"
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
				ppid = f[1]
			}
		}
		cmd, _ := os.ReadFile(d + "/cmdline")
		left = append(left, fmt.Sprintf("%d ppid=%s %s", pid, ppid, strings.TrimSpace(string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))))
	}
	return left
}
