package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// unitSets reads the ```systemd blocks of docs/deploy.md, each starting
// with "# NAME", into sets of units that go together: a service ends its
// set (gopaste.service; gopaste.socket and gopaste.service).
func unitSets(t *testing.T) []map[string]string {
	t.Helper()
	f, err := os.Open("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sets []map[string]string
	cur := map[string]string{}
	var name string
	var b *strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case b == nil && strings.TrimSpace(line) == "```systemd":
			b, name = &strings.Builder{}, ""
		case b != nil && strings.TrimSpace(line) == "```":
			if name == "" {
				t.Fatal("docs/deploy.md: a systemd block does not start with # NAME")
			}
			cur[name] = b.String()
			b = nil
			if strings.HasSuffix(name, ".service") {
				sets = append(sets, cur)
				cur = map[string]string{}
			}
		case b != nil && name == "" && strings.HasPrefix(line, "# "):
			name = strings.TrimPrefix(line, "# ")
		case b != nil:
			b.WriteString(line + "\n")
		}
	}
	if len(cur) > 0 {
		t.Fatal("docs/deploy.md: units after the last service")
	}
	return sets
}

// TestSystemdUnits (issue 10): the units docs/deploy.md gives, the plain
// one and the socket-activated pair, pass systemd-analyze verify with
// the built binary in ExecStart, and reload with SIGHUP.
func TestSystemdUnits(t *testing.T) {
	sets := unitSets(t)
	if len(sets) != 2 || len(sets[0]) != 1 || len(sets[1]) != 2 {
		t.Fatalf("docs/deploy.md: want a plain gopaste.service, then gopaste.socket and gopaste.service; got %d sets", len(sets))
	}
	for _, set := range sets {
		for name, text := range set {
			if strings.HasSuffix(name, ".service") && !strings.Contains(text, "ExecReload=/bin/kill -HUP $MAINPID") {
				t.Errorf("%s does not reload with SIGHUP:\n%s", name, text)
			}
		}
	}
	analyze := peer.Require(t, "systemd-analyze")
	bin := gopasteBinary(t)
	for i, set := range sets {
		dir := t.TempDir()
		var files []string
		for name, text := range set {
			p := filepath.Join(dir, name)
			text = strings.ReplaceAll(text, "/usr/local/bin/gopaste", bin)
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, p)
		}
		out, err := exec.Command(analyze, append([]string{"verify"}, files...)...).CombinedOutput()
		// verify also reports on the system's units ours depend on: only
		// lines about ours count (an unknown key is a warning, exit 0).
		var ours []string
		for _, line := range strings.Split(string(out), "\n") {
			for name := range set {
				if strings.Contains(line, name) {
					ours = append(ours, line)
					break
				}
			}
		}
		if err != nil || len(ours) > 0 {
			t.Errorf("set %d: systemd-analyze verify: %v\n%s", i+1, err, out)
		}
	}
}
