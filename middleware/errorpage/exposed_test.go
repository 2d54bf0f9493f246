package errorpage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/gopaste/gopaste/apps/text"
	"github.com/gopaste/gopaste/deploy"
	_ "github.com/gopaste/gopaste/middleware/errorpage"
	_ "github.com/gopaste/gopaste/middleware/profile"
	_ "github.com/gopaste/gopaste/server" // the http server
)

// TestDebugOnExposedServerWarnsIssue12: "debug = true" is reported as a
// warning when the server listens where other hosts reach it, not on
// loopback.
func TestDebugOnExposedServerWarnsIssue12(t *testing.T) {
	for host, want := range map[string]bool{"0.0.0.0": true, "192.0.2.10": true, "127.0.0.1": false, "localhost": false} {
		ini := filepath.Join(t.TempDir(), "site.ini")
		conf := "[pipeline:main]\npipeline = errors app\n\n[filter:errors]\nuse = errors\ndebug = true\n\n" +
			"[app:app]\nuse = text\nbody = hi\n\n[server:main]\nuse = http\nhost = " + host + "\nport = 0\n"
		if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		g, err := deploy.Load(ini, "", "", deploy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range g.Warnings {
			got = append(got, w.String())
		}
		g.Close()
		hit := len(got) == 1 && strings.Contains(got[0], `[filter:errors]: key "debug"`) && strings.Contains(got[0], "other hosts reach")
		if hit != want || !want && len(got) != 0 {
			t.Errorf("host %s: warnings %q, want the debug warning: %v", host, got, want)
		}
		rep, err := deploy.Check(ini, deploy.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if (len(rep.Warnings) == 1) != want {
			t.Errorf("host %s: check warnings %v, want the debug warning: %v", host, rep.Warnings, want)
		}
	}
}

// TestFactoryWarningsReportedIssue12: a factory's warning (profile's short
// key) reaches the generation's warnings, whatever the address.
func TestFactoryWarningsReportedIssue12(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "site.ini")
	conf := "[pipeline:main]\npipeline = prof app\n\n[filter:prof]\nuse = profile\nkey = short\n\n" +
		"[app:app]\nuse = text\nbody = hi\n\n[server:main]\nuse = http\nhost = 127.0.0.1\nport = 0\n"
	if err := os.WriteFile(ini, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := deploy.Load(ini, "", "", deploy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if len(g.Warnings) != 1 || !strings.Contains(g.Warnings[0].String(), `site.ini:6: [filter:prof]: key "key": a key of 5 characters`) {
		t.Errorf("warnings %v", g.Warnings)
	}
}
