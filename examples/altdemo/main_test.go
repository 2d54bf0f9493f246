package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/cli"
)

// TestProgram: the program has the parts altdemo.ini and every server
// need, and serves the Altdemo's home page through that config.
// cmd/gopaste/altdemo_e2e_test.go logs in through the built program.
func TestProgram(t *testing.T) {
	b, err := os.ReadFile("altdemo.ini")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "altdemo.ini") // the session database goes beside it
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"apps"}, []string{"altdemo"}},
		{[]string{"filters"}, []string{"session"}},
		{[]string{"servers"}, []string{"http", "scgi", "uwsgi", "fastcgi", "cgi", "console"}},
		{[]string{"request", cfg, "/"}, []string{"HTTP/1.1 200 OK", "Not logged in", "Set-Cookie: session="}},
		{[]string{"request", cfg, "/login"}, []string{"HTTP/1.1 200 OK", `name="csrf_token"`}},
	} {
		var out, errs bytes.Buffer
		if code := cli.Main(&cli.Env{Stdout: &out, Stderr: &errs}, tc.args); code != 0 {
			t.Fatalf("%v: exit %d\n%s", tc.args, code, errs.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out.String())
			}
		}
	}
}
