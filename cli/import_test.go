package cli_test

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// stubWSGI is registry.Default with the wsgi app replaced by one that
// reads the wsgi keys and starts no Python: gopaste check then says
// whether an imported config builds, key by key.
func stubWSGI(t *testing.T) *registry.Registry {
	t.Helper()
	r := registrytest.Copy(t, registry.Default, "wsgi")
	stub := func(c *registry.Config) (http.Handler, error) {
		for _, k := range []string{"module", "paste", "chdir", "virtualenv", "pythonpath", "workers", "threads", "hard_timeout",
			"graceful_timeout", "max_requests", "max_requests_jitter", "preload", "memory_limit", "user", "group", "max_body_spool"} {
			c.String(k, "")
		}
		for _, k := range c.KeysWithPrefix("env ") {
			c.String(k, "")
		}
		return http.NotFoundHandler(), c.Err()
	}
	if err := r.AddApp("wsgi", stub, "stub"); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestImportGolden runs gopaste import on each testdata/import/*.txtar
// (the first file is the input) and compares the config it prints with
// the archive's "want"; the printed config must then pass gopaste check.
func TestImportGolden(t *testing.T) {
	peer.RequirePython(t) // a gunicorn config is Python
	files, _ := filepath.Glob("testdata/import/*.txtar")
	if len(files) < 4 {
		t.Fatalf("only %d golden cases", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			input, want, wantIdx := "", "", -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					want, wantIdx = string(f.Data), i
					continue
				}
				p := filepath.Join(dir, f.Name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				if input == "" {
					input = p
				}
			}
			code, out, errs := run(t, "import", input)
			if code != 0 {
				t.Fatalf("import: exit %d\n%s", code, errs)
			}
			got := strings.ReplaceAll(out, dir, "$DIR")
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if got != want {
				t.Errorf("import output differs (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", got, want)
			}
			cfg := filepath.Join(dir, "gopaste.ini")
			os.WriteFile(cfg, []byte(out), 0o644)
			var o, e bytes.Buffer
			if code := cli.Main(&cli.Env{Stdout: &o, Stderr: &e, Stdin: strings.NewReader(""), Registry: stubWSGI(t)}, []string{"check", cfg}); code != 0 {
				t.Errorf("gopaste check of the imported config: exit %d\n%s%s", code, o.String(), e.String())
			}
		})
	}
}

// A gunicorn config that fails in Python is an error with its traceback;
// a uWSGI file without [uwsgi] is an error.
func TestImportErrors(t *testing.T) {
	peer.RequirePython(t)
	dir := t.TempDir()
	py := filepath.Join(dir, "gunicorn.conf.py")
	os.WriteFile(py, []byte("workers = undefined_name\n"), 0o644)
	code, _, errs := run(t, "import", py)
	if code != 1 || !strings.Contains(errs, "NameError: name 'undefined_name' is not defined") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	ini := filepath.Join(dir, "x.ini")
	os.WriteFile(ini, []byte("[app:main]\nuse = env\n"), 0o644)
	code, _, errs = run(t, "import", ini)
	if code != 1 || !strings.Contains(errs, "has no [uwsgi] section") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	if code, _, _ := run(t, "import"); code != 2 {
		t.Errorf("no FILE: exit %d, want 2", code)
	}
	// The app on the command line, as gunicorn takes it.
	os.WriteFile(py, []byte("workers = 2\n"), 0o644)
	code, out, _ := run(t, "import", py, "hello:app")
	if code != 0 || !strings.Contains(out, "[app:main]\nuse = wsgi\nmodule = hello:app\nworkers = 2\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
