package docs_test

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/gopastetest"
)

type example struct {
	file string
	line int
	text string
}

func examples(t *testing.T) []example {
	t.Helper()
	mds, _ := filepath.Glob("*.md")
	// The README's example is tested too (its static app's public/
	// directory is created, as a reader would have one).
	mds = append(mds, "../README.md")
	var out []example
	for _, md := range mds {
		f, err := os.Open(md)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		n, start := 0, 0
		var cur *strings.Builder
		for sc.Scan() {
			n++
			line := sc.Text()
			switch {
			case cur == nil && strings.TrimSpace(line) == "```ini":
				cur, start = &strings.Builder{}, n+1
			case cur != nil && strings.TrimSpace(line) == "```":
				out = append(out, example{md, start, cur.String()})
				cur = nil
			case cur != nil:
				cur.WriteString(line + "\n")
			}
		}
		f.Close()
	}
	return out
}

var (
	reqRe  = regexp.MustCompile(`^#\s*request:\s*(\S+)\s+(\S+)(?:\s+(\S+))?\s+->\s+(\d{3})(?:\s+"(.*)")?\s*$`)
	fileRe = regexp.MustCompile(`^#\s*file:\s*([^:]+):\s?(.*)$`)
	appRe  = regexp.MustCompile(`^#\s*app:\s*(\S+)\s*$`)
)

// TestExamples builds every ```ini example in docs/*.md and runs the
// requests the example lists, so no example in the docs can rot.
//
// An example may start with comment lines that the test reads:
//
//	# file: public/hello.txt: hello world    (creates a file beside the config)
//	# request: GET /path -> 200 "substring"  (runs a request through app main)
//	# request: POST /login user=bob&pw=x -> 303
//	# app: NAME                               (build NAME instead of main)
func TestExamples(t *testing.T) {
	exs := examples(t)
	if len(exs) == 0 {
		t.Fatal("no ```ini examples found in docs/*.md")
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, ex := range exs {
		t.Run(ex.file+":"+strconv.Itoa(ex.line), func(t *testing.T) {
			dir := t.TempDir()
			if ex.file == "../README.md" {
				os.MkdirAll(filepath.Join(dir, "public"), 0o755)
			}
			appName := "main"
			type req struct{ method, path, body, want, substr string }
			var reqs []req
			for _, line := range strings.Split(ex.text, "\n") {
				line = strings.TrimSpace(line)
				if m := fileRe.FindStringSubmatch(line); m != nil {
					p := filepath.Join(dir, strings.TrimSpace(m[1]))
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.WriteFile(p, []byte(strings.ReplaceAll(m[2], `\n`, "\n")), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if m := reqRe.FindStringSubmatch(line); m != nil {
					reqs = append(reqs, req{m[1], m[2], m[3], m[4], m[5]})
				} else if strings.HasPrefix(line, "# request:") {
					t.Fatalf("malformed request line %q", line)
				}
				if m := appRe.FindStringSubmatch(line); m != nil {
					appName = m[1]
				}
			}
			cfg := filepath.Join(dir, "example.ini")
			if err := os.WriteFile(cfg, []byte(ex.text), 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := deploy.Check(cfg, deploy.Options{Logger: logger})
			if err != nil {
				t.Fatalf("%s:%d: %v", ex.file, ex.line, err)
			}
			for _, e := range rep.Errs {
				t.Errorf("%s:%d: %v", ex.file, ex.line, e)
			}
			if t.Failed() || len(reqs) == 0 {
				return
			}
			app, err := deploy.BuildApp(cfg, appName, deploy.Options{Logger: logger})
			if err != nil {
				t.Fatalf("%s:%d: %v", ex.file, ex.line, err)
			}
			defer app.Close()
			// Requests run through the test client with lint on, so every
			// documented example also keeps the handler contract; cookies
			// carry over from one request line to the next.
			client := gopastetest.New(t, app.Handler)
			client.Lint = true
			for _, rq := range reqs {
				var body io.Reader
				if rq.body != "" {
					body = strings.NewReader(rq.body)
				}
				r := client.NewRequest(rq.method, rq.path, body)
				if rq.body != "" {
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				resp := client.Do(r)
				if strconv.Itoa(resp.Status) != rq.want {
					t.Errorf("%s:%d: %s %s: status %d, want %s; body:\n%.500s", ex.file, ex.line, rq.method, rq.path, resp.Status, rq.want, resp.Body)
				}
				got := strings.ReplaceAll(resp.Body, "\": ", "\":")
				if rq.substr != "" && !strings.Contains(got, rq.substr) {
					t.Errorf("%s:%d: %s %s: body lacks %q:\n%.500s", ex.file, ex.line, rq.method, rq.path, rq.substr, resp.Body)
				}
			}
		})
	}
}

var _ http.Handler
