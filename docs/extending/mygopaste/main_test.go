package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/cli"
)

// TestPartsAreThere: the binary's commands see the example's parts next
// to the built-in ones, and serve a request through them.
func TestPartsAreThere(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"apps"}, []string{"hello", "static"}},
		{[]string{"filters"}, []string{"count", "session"}},
		{[]string{"servers"}, []string{"line", "http"}},
		{[]string{"request", "../example/testdata/example.ini", "/fay"}, []string{"200 OK", "X-Request-Number: 1", "Hello, fay! visit 1"}},
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
