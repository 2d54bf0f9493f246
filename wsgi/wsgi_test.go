package wsgi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/peer"
)

// testdata returns the absolute path of testdata.
func testdata(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// start runs o (Chdir defaulting to testdata, 1 worker, Debian's
// python3 with modules) behind an httptest server, both closed by
// t.Cleanup.
func start(t *testing.T, o Options, modules ...string) (*App, *httptest.Server, *logbuf.Buffer) {
	t.Helper()
	o.Python = peer.RequirePython(t, modules...)
	if o.Chdir == "" {
		o.Chdir = testdata(t)
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	// No __pycache__ in testdata.
	o.Env = append(o.Env, "PYTHONDONTWRITEBYTECODE=1")
	logs := &logbuf.Buffer{}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.Process.GracefulTimeout == 0 {
		o.Process.GracefulTimeout = 5 * time.Second
	}
	a, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(func() {
		srv.Close()
		a.Close()
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	return a, srv, logs
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	return do(t, "GET", url, "")
}

func do(t *testing.T, method, url, body string) (int, http.Header, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, res.Header, string(b) + "<read error: " + err.Error() + ">"
	}
	return res.StatusCode, res.Header, string(b)
}

// TestConformance runs PEP 3333's edge cases through wsgiref.validate,
// which turns every contract breach, and every warning, into a 500 and a
// traceback in the log.
func TestConformance(t *testing.T) {
	marks := t.TempDir()
	_, srv, logs := start(t, Options{Module: "conform", Threads: 2, Env: []string{"CONFORM_MARKS=" + marks}})
	big := strings.Repeat("0123456789abcdef", 20000) // 320 KB: past the first read
	lines := "one\ntwo\n\nthree"
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string
		header                   map[string]string
	}{
		{"hello", "GET", "/hello", "", 200, "Hello, World!\n", map[string]string{"Content-Length": "14"}},
		{"no content-length", "GET", "/nolength", "", 200, "no length here", nil},
		{"generator", "GET", "/generator", "", 200, "chunk0;chunk1;chunk2;chunk3;chunk4;", nil},
		{"write callable", "GET", "/write", "", 200, "written then returned", nil},
		{"exc_info before headers", "GET", "/excinfo-before", "", 503, "sorry", nil},
		{"close on success", "GET", "/close-ok", "", 200, "closing", nil},
		{"body in small reads", "POST", "/echo", "hello, small reads of seven", 200, "hello, small reads of seven|27", nil},
		{"big body in small reads", "POST", "/echo", big, 200, big + "|320000", nil},
		{"readline", "POST", "/echo?lines", lines, 200, "[one\n][two\n][\n][three]", nil},
		{"iteration", "POST", "/echo?iter", lines, 200, "<one\n><two\n><\n><three>", nil},
		{"readlines", "POST", "/echo?readlines", lines, 200, "(one\n)(two\n)(\n)(three)", nil},
		{"unread body", "POST", "/unread", big, 200, "unread", nil},
		{"head", "HEAD", "/hello", "", 200, "", map[string]string{"Content-Length": "14"}},
		{"not found", "GET", "/nope", "", 404, "not found", nil},
		{"file wrapper, sendfile", "GET", "/file", "", 200, "PEP 3333 edge cases", nil},
		{"file wrapper, iterated", "GET", "/file-iter", "", 200, "PEP 3333 edge cases", nil},
		{"latin-1 header", "GET", "/latin1-header", "", 200, "ok", map[string]string{"X-Name": "caf\xe9"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, tc.method, srv.URL+tc.path, tc.body)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%s %s = %d %.200q, want %d with %.200q", tc.method, tc.path, status, body, tc.status, tc.want)
			}
			if tc.want == big+"|320000" && body != tc.want {
				t.Errorf("big body: got %d bytes, want %d", len(body), len(tc.want))
			}
			for k, v := range tc.header {
				if got := h.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
	// The whole file, through sendfile, with the length the worker added.
	want, _ := os.ReadFile(filepath.Join(testdata(t), "conform.py"))
	if _, h, body := get(t, srv.URL+"/file"); body != string(want) || h.Get("Content-Length") != fmt.Sprint(len(want)) {
		t.Errorf("/file: %d bytes, Content-Length %q; want the %d bytes of conform.py", len(body), h.Get("Content-Length"), len(want))
	}
	if b, _ := os.ReadFile(filepath.Join(marks, "closed-ok")); len(b) == 0 {
		t.Error("close() was not called on a response that succeeded")
	}
	if l := logs.String(); strings.Contains(l, "Traceback") || strings.Contains(l, "Warning") {
		t.Errorf("the log has a traceback or warning:\n%s", l)
	}
}

// captureDefault sends slog.Default() to a buffer until the test ends:
// without an errors filter, errorpage.Report logs there.
func captureDefault(t *testing.T) *logbuf.Buffer {
	logs := &logbuf.Buffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return logs
}

// TestErrors: an exception before the reply is a 500 without details
// (they are in the log); after the reply began, the connection is
// broken; close() runs in both cases.
func TestErrors(t *testing.T) {
	marks := t.TempDir()
	reported := captureDefault(t)
	_, srv, logs := start(t, Options{Module: "conform", Env: []string{"CONFORM_MARKS=" + marks}})
	status, h, body := get(t, srv.URL+"/error")
	if status != 500 || strings.Contains(body, "secret") || h.Get(errorHeader) != "" {
		t.Errorf("GET /error = %d %v %q, want 500 without the exception's text", status, h, body)
	}
	if l := reported.String(); !strings.Contains(l, "secret-detail-in-the-log-only") || !strings.Contains(l, "GET /error") ||
		strings.Contains(l, "worker.py") {
		t.Errorf("the traceback, with the application's frames only, is not in the log:\n%s", l)
	}
	// An application's 500 with the marker and a wrong token passes, less
	// the marker.
	if status, h, body := get(t, srv.URL+"/forged"); status != 500 || body != "the application's own 500" || h.Get(errorHeader) != "" {
		t.Errorf("GET /forged = %d %v %q", status, h, body)
	}
	// The failing iterable: one part is out, then the reply is cut.
	res, err := http.Get(srv.URL + "/close-on-error")
	if err == nil {
		b, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		if rerr == nil && string(b) != "one" {
			t.Errorf("GET /close-on-error body = %q", b)
		}
		if rerr == nil && res.Header.Get("Content-Length") != "" {
			t.Errorf("a cut reply came with a Content-Length")
		}
	}
	if b, _ := os.ReadFile(filepath.Join(marks, "closed")); len(b) == 0 {
		t.Error("close() was not called on an iterable that raised")
	}
	waitUntil(t, "the failing iterable's traceback is in the log", func() bool {
		return strings.Contains(logs.String(), "failing iterable")
	})
	// exc_info after the headers: the original exception propagates.
	get(t, srv.URL+"/excinfo-after")
	waitUntil(t, "exc_info after the headers is re-raised and logged", func() bool {
		return strings.Contains(logs.String(), "too late to change the status")
	})
	// The worker still serves.
	if status, _, body := get(t, srv.URL+"/hello"); status != 200 || body != "Hello, World!\n" {
		t.Errorf("after the errors: GET /hello = %d %q", status, body)
	}
}

// TestStreaming: a generator's parts reach the client as produced: the
// second arrives a pause after the first, not with it.
func TestStreaming(t *testing.T) {
	_, srv, _ := start(t, Options{Module: "conform"})
	res, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	first, err := br.ReadString('\n')
	if err != nil || first != "first\n" {
		t.Fatalf("first line = %q, %v", first, err)
	}
	begin := time.Now()
	rest, _ := io.ReadAll(br)
	if string(rest) != "second\n" {
		t.Errorf("rest = %q", rest)
	}
	if d := time.Since(begin); d < 500*time.Millisecond {
		t.Errorf("the second part came %v after the first, want the generator's 1s pause: buffered?", d)
	}
}

// TestPaths: non-ASCII paths reach PATH_INFO as latin-1 decoded bytes
// (PEP 3333's tunnelling), and the mount gives SCRIPT_NAME.
func TestPaths(t *testing.T) {
	_, srv, _ := start(t, Options{Module: "conform"})
	_, _, body := get(t, srv.URL+"/path/caf%C3%A9/%E2%82%AC")
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v: %q", err, body)
	}
	if got["utf8"] != "/path/café/€" || got["path_info"] != "/path/caf\u00c3\u00a9/\u00e2\u0082\u00ac" {
		t.Errorf("PATH_INFO = %q (as UTF-8 %q), want the UTF-8 bytes as latin-1", got["path_info"], got["utf8"])
	}
}

// TestEnviron checks the environ a request gets: the flags that depend
// on workers and threads, and the CGI variables.
func TestEnviron(t *testing.T) {
	for _, tc := range []struct {
		workers, threads int
		mt, mp           bool
	}{{1, 1, false, false}, {1, 4, true, false}, {2, 1, false, true}} {
		t.Run(fmt.Sprintf("workers=%d,threads=%d", tc.workers, tc.threads), func(t *testing.T) {
			_, srv, _ := start(t, Options{Module: "conform", Workers: tc.workers, Threads: tc.threads})
			_, _, body := get(t, srv.URL+"/environ?a=1")
			var env map[string]any
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Fatalf("%v: %q", err, body)
			}
			want := map[string]any{"wsgi.multithread": tc.mt, "wsgi.multiprocess": tc.mp, "wsgi.run_once": false,
				"wsgi.url_scheme": "http", "REQUEST_METHOD": "GET", "PATH_INFO": "/environ", "SCRIPT_NAME": "",
				"QUERY_STRING": "a=1", "SERVER_PROTOCOL": "HTTP/1.1"}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("environ[%s] = %v, want %v", k, env[k], v)
				}
			}
		})
	}
}

// TestFrozenAfterImport: the worker freezes what the import made (the
// application's modules and the standard library's), with and without
// preload, after collecting the garbage the import left.
func TestFrozenAfterImport(t *testing.T) {
	for _, preload := range []bool{false, true} {
		t.Run(fmt.Sprintf("preload=%v", preload), func(t *testing.T) {
			_, srv, _ := start(t, Options{Module: "conform:router", Workers: 2, Preload: preload})
			code, _, body := get(t, srv.URL+"/gc-frozen")
			n, err := strconv.Atoi(body)
			if code != 200 || err != nil || n < 1000 {
				t.Errorf("GET /gc-frozen: %d %q, want a count of a thousand objects or more", code, body)
			}
			// A cycle the import left as garbage is collected before the
			// freeze, not kept for the worker's life.
			if code, _, body := get(t, srv.URL+"/import-garbage"); code != 200 || body != "freed" {
				t.Errorf("GET /import-garbage: %d %q, want freed", code, body)
			}
		})
	}
}

// TestImportError: an application that cannot be imported stops New
// with the Python traceback.
func TestImportError(t *testing.T) {
	py := peer.RequirePython(t)
	dir := t.TempDir()
	peer.WriteFile(t, dir, "broken.py", "import json\nvalue = 1 / 0\n")
	for _, tc := range []struct{ module, want string }{
		{"broken", "ZeroDivisionError"},
		{"missing_module", "ModuleNotFoundError: No module named 'missing_module'"},
		{"json:nothing", "module json has no nothing"},
	} {
		_, err := New(Options{Module: tc.module, Python: py, Chdir: dir, Workers: 2,
			Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "wsgi: module "+tc.module) {
			t.Errorf("New(%s) = %v, want an error with %q", tc.module, err, tc.want)
		}
	}
}

// TestErrorPage: under the errors filter an exception is its report:
// the traceback on the debug page, a plain page with a request id
// otherwise.
func TestErrorPage(t *testing.T) {
	peer.RequirePython(t)
	for _, debug := range []bool{true, false} {
		t.Run(fmt.Sprint("debug=", debug), func(t *testing.T) {
			cfg := peer.WriteFile(t, t.TempDir(), "site.ini", fmt.Sprintf("[pipeline:main]\npipeline = errors app\n\n"+
				"[filter:errors]\nuse = errors\ndebug = %v\n\n[app:app]\nuse = wsgi\nmodule = conform\nworkers = 1\n"+
				"chdir = %s\nenv PYTHONDONTWRITEBYTECODE = 1\n", debug, testdata(t)))
			logs := &logbuf.Buffer{}
			app, err := deploy.BuildApp(cfg, "main", deploy.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer app.Close()
			rec := httptest.NewRecorder()
			app.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/error", nil))
			body := rec.Body.String()
			shown := strings.Contains(body, "secret-detail-in-the-log-only")
			if rec.Code != 500 || shown != debug {
				t.Errorf("GET /error = %d, traceback shown %v, want 500 and %v:\n%.600s", rec.Code, shown, debug, body)
			}
			if !strings.Contains(logs.String(), "secret-detail-in-the-log-only") {
				t.Errorf("the report is not in the log:\n%s", logs)
			}
			rec = httptest.NewRecorder()
			app.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/hello", nil))
			if rec.Code != 200 || rec.Body.String() != "Hello, World!\n" {
				t.Errorf("GET /hello = %d %q", rec.Code, rec.Body)
			}
		})
	}
}
