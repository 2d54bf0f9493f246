package cgi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/apps/env"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/mount"
)

// childVar makes the test binary act as a CGI script (see TestMain); the
// handlers under test pass it through with PassEnv.
const childVar = "GOPASTE_CGI_CHILD"

// TestMain re-runs the test binary as a CGI script when childVar says so,
// as net/http/cgi's integration tests do.
func TestMain(m *testing.M) {
	switch os.Getenv(childVar) {
	case "":
		os.Exit(m.Run())
	case "env":
		// Headers, then the environment sorted, then the body.
		body, _ := io.ReadAll(os.Stdin)
		fmt.Print("Content-Type: text/plain\r\nX-Child: env\r\n\r\n")
		envs := os.Environ()
		sort.Strings(envs)
		for _, e := range envs {
			fmt.Println(e)
		}
		fmt.Printf("body=%s\n", body)
	case "fail":
		fmt.Fprintln(os.Stderr, "child: something broke")
		os.Exit(3)
	case "server":
		// gopaste as a CGI program, serving the env app.
		s := &Server{}
		if err := s.Run(context.Background(), &env.Handler{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		os.Exit(2)
	}
	os.Exit(0)
}

func newHandler(t *testing.T, o Options) (*Handler, *logbuf.Buffer) {
	t.Helper()
	logs := &logbuf.Buffer{}
	o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, logs
}

// mounted serves h under prefix, as urlmap would.
func mounted(prefix string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, mount.Shift(r, prefix))
	})
}

func envLines(body string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(body, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func do(t *testing.T, h http.Handler, r *http.Request) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	r.URL.Scheme, r.URL.Host = "http", strings.TrimPrefix(srv.URL, "http://")
	r.RequestURI = ""
	res, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestScriptVariables(t *testing.T) {
	t.Setenv(childVar, "env")
	t.Setenv("GOPASTE_SECRET", "must-not-leak")
	h, _ := newHandler(t, Options{Script: os.Args[0], PassEnv: []string{childVar, "GOPASTE_UNSET"}})
	r := httptest.NewRequest("GET", "/app/x/y?q=1&r=2", nil)
	r.Header.Set("Proxy", "http://evil.example/")
	r.Header.Set("X-Auth_User", "spoof")
	r.Header.Set("X-Auth-User", "real")
	r.Header.Set("X-Forwarded-Prefix", "/evil") // only a trusted front end says it
	res, body := do(t, mounted("/app", h), r)
	if res.StatusCode != 200 || res.Header.Get("X-Child") != "env" {
		t.Fatalf("status %d, headers %v:\n%s", res.StatusCode, res.Header, body)
	}
	got := envLines(body)
	want := map[string]string{
		"SCRIPT_NAME":       "/app",
		"PATH_INFO":         "/x/y",
		"QUERY_STRING":      "q=1&r=2",
		"REQUEST_METHOD":    "GET",
		"REQUEST_URI":       "/app/x/y?q=1&r=2",
		"SCRIPT_FILENAME":   os.Args[0],
		"GATEWAY_INTERFACE": "CGI/1.1",
		"SERVER_PROTOCOL":   "HTTP/1.1",
		"PATH":              DefaultPath,
		"HTTP_X_AUTH_USER":  "real",
		childVar:            "env",
		"REMOTE_ADDR":       "127.0.0.1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"GOPASTE_SECRET", "GOPASTE_UNSET", "HTTP_PROXY", "CONTENT_LENGTH", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PREFIX", "HOME"} {
		if v, ok := got[k]; ok {
			t.Errorf("%s reached the script (%q)", k, v)
		}
	}
}

func TestScriptAtRootHasEmptyScriptName(t *testing.T) {
	t.Setenv(childVar, "env")
	h, _ := newHandler(t, Options{Script: os.Args[0], PassEnv: []string{childVar}})
	_, body := do(t, h, httptest.NewRequest("GET", "/a", nil))
	got := envLines(body)
	if got["SCRIPT_NAME"] != "" || got["PATH_INFO"] != "/a" {
		t.Errorf("SCRIPT_NAME=%q PATH_INFO=%q, want \"\" and /a", got["SCRIPT_NAME"], got["PATH_INFO"])
	}
}

func TestPostBody(t *testing.T) {
	t.Setenv(childVar, "env")
	h, _ := newHandler(t, Options{Script: os.Args[0], PassEnv: []string{childVar}})
	big := strings.Repeat("0123456789", 100000) // 1 MB, more than a pipe holds
	r := httptest.NewRequest("POST", "/p", strings.NewReader(big))
	r.Header.Set("Content-Type", "text/plain")
	res, body := do(t, h, r)
	got := envLines(body)
	if res.StatusCode != 200 || got["CONTENT_LENGTH"] != strconv.Itoa(len(big)) || got["CONTENT_TYPE"] != "text/plain" {
		t.Errorf("status %d CONTENT_LENGTH=%q CONTENT_TYPE=%q", res.StatusCode, got["CONTENT_LENGTH"], got["CONTENT_TYPE"])
	}
	if got["body"] != big {
		t.Errorf("body: got %d bytes, want %d", len(got["body"]), len(big))
	}
}

func TestChunkedBodyIsRefused(t *testing.T) {
	t.Setenv(childVar, "env")
	h, _ := newHandler(t, Options{Script: os.Args[0], PassEnv: []string{childVar}})
	r := httptest.NewRequest("POST", "/p", io.NopCloser(strings.NewReader("x")))
	r.ContentLength = -1
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusLengthRequired {
		t.Errorf("chunked POST: %d, want 411", w.Code)
	}
}

func TestScriptDir(t *testing.T) {
	// A copy, so that the symlink added below never touches testdata.
	dir := filepath.Join(t.TempDir(), "cgi-bin")
	if err := os.CopyFS(dir, os.DirFS("testdata/cgi-bin")); err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, Options{Dir: dir})
	outside := filepath.Join(t.TempDir(), "outside.sh")
	os.WriteFile(outside, []byte("#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nescaped\\n'\n"), 0o755)
	if err := os.Symlink(outside, filepath.Join(dir, "link.sh")); err != nil {
		t.Fatal(err)
	}

	app := mounted("/cgi-bin", h)
	for _, tc := range []struct {
		path string
		code int
		want []string
	}{
		{"/cgi-bin/hello.sh", 200, []string{"SCRIPT_NAME=/cgi-bin/hello.sh\n", "PATH_INFO=\n", "PWD=" + dir + "\n", "SCRIPT_FILENAME=" + filepath.Join(dir, "hello.sh")}},
		{"/cgi-bin/hello.sh/extra/path?a=b", 200, []string{"SCRIPT_NAME=/cgi-bin/hello.sh\n", "PATH_INFO=/extra/path\n", "QUERY_STRING=a=b\n"}},
		{"/cgi-bin/sub/tool.sh/more/", 200, []string{"tool SCRIPT_NAME=/cgi-bin/sub/tool.sh PATH_INFO=/more/"}},
		{"/cgi-bin/./sub//tool.sh", 200, []string{"tool SCRIPT_NAME=/cgi-bin/sub/tool.sh PATH_INFO=\n"}},
		{"/cgi-bin/sub/../hello.sh", 200, []string{"SCRIPT_NAME=/cgi-bin/hello.sh\n"}},
		{"/cgi-bin/.hidden.sh", 404, nil},
		{"/cgi-bin/sub/.././.hidden.sh", 404, nil},
		{"/cgi-bin/notes.txt", 403, nil},
		{"/cgi-bin/sub", 404, nil},
		{"/cgi-bin/", 404, nil},
		{"/cgi-bin/missing.sh", 404, nil},
		{"/cgi-bin/../handler.go", 404, nil},
		{"/cgi-bin/link.sh", 404, nil}, // a symlink out of the directory
	} {
		r := httptest.NewRequest("GET", "http://x"+tc.path, nil)
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("GET %s: %d, want %d\n%s", tc.path, w.Code, tc.code, w.Body)
			continue
		}
		for _, s := range tc.want {
			if !strings.Contains(w.Body.String(), s) {
				t.Errorf("GET %s: body lacks %q:\n%s", tc.path, s, w.Body)
			}
		}
		if strings.Contains(w.Body.String(), "escaped") || strings.Contains(w.Body.String(), "hidden") {
			t.Errorf("GET %s ran a script it must not: %s", tc.path, w.Body)
		}
	}
}

func TestInterpreter(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plain.sh"), []byte("printf 'Content-Type: text/plain\\n\\nrun by sh with %s\\n' \"$0\"\n"), 0o644)
	h, _ := newHandler(t, Options{Dir: dir, Interpreter: []string{"/bin/sh"}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/plain.sh", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "run by sh with "+filepath.Join(dir, "plain.sh")) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

func TestPerlFormScript(t *testing.T) {
	peer.Require(t, "perl")
	dir, _ := filepath.Abs("testdata/cgi-bin")
	h, logs := newHandler(t, Options{Dir: dir})
	r := httptest.NewRequest("POST", "/form.pl", strings.NewReader("name=gopher&x=1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body := do(t, h, r)
	if res.StatusCode != 201 || res.Header.Get("X-Perl") != "yes" || !strings.Contains(body, "name=gopher\nmethod=POST") {
		t.Errorf("%d %v %q", res.StatusCode, res.Header, body)
	}
	if !strings.Contains(logs.String(), "form.pl read 15 bytes") {
		t.Errorf("stderr not logged: %s", logs)
	}
}

func TestFailureBeforeHeadersIs502(t *testing.T) {
	t.Setenv(childVar, "fail")
	h, logs := newHandler(t, Options{Script: os.Args[0], PassEnv: []string{childVar}})
	res, body := do(t, h, httptest.NewRequest("GET", "/", nil))
	if res.StatusCode != 502 || strings.Contains(body, "broke") {
		t.Errorf("%d %q, want 502 without the script's text", res.StatusCode, body)
	}
	for _, s := range []string{"level=WARN", "child: something broke", "exit status 3"} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, logs)
		}
	}
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMalformedOutputIs502(t *testing.T) {
	for name, script := range map[string]string{
		"no headers":   "exit 0\n",
		"no colon":     "printf 'garbage\\n\\nbody'\n",
		"bad status":   "printf 'Status: abc\\nContent-Type: text/plain\\n\\n'\n",
		"unterminated": "printf 'Content-Type: text/plain\\n'\n",
		"huge header":  "printf 'X-Big: '; head -c 100000 /dev/zero | tr '\\0' a; printf '\\n\\n'\n",
	} {
		t.Run(name, func(t *testing.T) {
			h, _ := newHandler(t, Options{Script: writeScript(t, script)})
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			if w.Code != 502 {
				t.Errorf("%d, want 502", w.Code)
			}
		})
	}
}

func TestStatusAndLocation(t *testing.T) {
	for _, tc := range []struct {
		script string
		code   int
		hdr    string
	}{
		{"printf 'Status: 404 Not Found\\nContent-Type: text/plain\\n\\nnope'", 404, ""},
		{"printf 'Location: http://example.com/\\n\\n'", 302, "http://example.com/"},
		{"printf 'Status: 301\\nLocation: /there\\n\\n'", 301, "/there"},
		{"printf 'Content-Type: text/plain\\nTransfer-Encoding: chunked\\nConnection: close\\n\\nok'", 200, ""},
	} {
		h, _ := newHandler(t, Options{Script: writeScript(t, tc.script)})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != tc.code || w.Header().Get("Location") != tc.hdr {
			t.Errorf("%s: %d %v, want %d Location %q", tc.script, w.Code, w.Header(), tc.code, tc.hdr)
		}
		if w.Header().Get("Transfer-Encoding") != "" || w.Header().Get("Connection") != "" {
			t.Errorf("%s: hop-by-hop headers passed: %v", tc.script, w.Header())
		}
	}
}

// groupAlive reports whether a process of group pgid is still running
// (zombies waiting for a reaper count as dead).
func groupAlive(t *testing.T, pgid int) bool {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:])) // state ppid pgrp ...
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}

func waitGroupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for groupAlive(t, pgid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has live processes", pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("PIDFILE", pidFile)
	script := writeScript(t, "echo $$ > \"$PIDFILE\"\nsleep 60 &\nsleep 60\n")
	h, logs := newHandler(t, Options{Script: script, PassEnv: []string{"PIDFILE"}, Timeout: 300 * time.Millisecond})
	start := time.Now()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusGatewayTimeout {
		t.Errorf("%d, want 504", w.Code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	pid := readPid(t, pidFile)
	waitGroupGone(t, pid)
	if !strings.Contains(logs.String(), "timed out") {
		t.Errorf("log: %s", logs)
	}
}

func TestTimeoutAfterHeadersCutsResponse(t *testing.T) {
	script := writeScript(t, "printf 'Content-Type: text/plain\\n\\npartial'\nsleep 60\n")
	h, _ := newHandler(t, Options{Script: script, Timeout: 300 * time.Millisecond})
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "partial" || err == nil {
		t.Errorf("%d %q err=%v, want 200, \"partial\" and a read error", res.StatusCode, b, err)
	}
}

// TestBackgroundChildDoesNotHoldResponse: a script that leaves a child
// holding stdout ends its response when it exits, and the child dies.
func TestBackgroundChildDoesNotHoldResponse(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("PIDFILE", pidFile)
	script := writeScript(t, "echo $$ > \"$PIDFILE\"\nprintf 'Content-Type: text/plain\\n\\ndone\\n'\nsleep 60 &\nexit 0\n")
	h, _ := newHandler(t, Options{Script: script, PassEnv: []string{"PIDFILE"}})
	start := time.Now()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || w.Body.String() != "done\n" {
		t.Errorf("%d %q", w.Code, w.Body)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("response took %v: the background child held it", d)
	}
	waitGroupGone(t, readPid(t, pidFile))
}

func TestClientGoneKillsScript(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("PIDFILE", pidFile)
	script := writeScript(t, "echo $$ > \"$PIDFILE\"\nsleep 60\n")
	h, _ := newHandler(t, Options{Script: script, PassEnv: []string{"PIDFILE"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(ctx))
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(pidFile); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("script never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not return after the client left")
	}
	waitGroupGone(t, readPid(t, pidFile))
}

// TestStreaming: the first chunk reaches the client before the script
// writes the last.
func TestStreaming(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	t.Setenv("GATE", gate)
	script := writeScript(t, "printf 'Content-Type: text/plain\\n\\nfirst\\n'\nwhile [ ! -e \"$GATE\" ]; do sleep 0.02; done\necho last\n")
	h, _ := newHandler(t, Options{Script: script, PassEnv: []string{"GATE"}, Timeout: 20 * time.Second})
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk: %q %v", line, err)
	}
	os.WriteFile(gate, nil, 0o644)
	rest, _ := io.ReadAll(br)
	if string(rest) != "last\n" {
		t.Errorf("rest: %q", rest)
	}
}

func TestNewValidates(t *testing.T) {
	noexec := filepath.Join(t.TempDir(), "x.sh")
	os.WriteFile(noexec, []byte("echo"), 0o644)
	for name, o := range map[string]Options{
		"neither":        {},
		"both":           {Script: os.Args[0], Dir: "."},
		"missing script": {Script: "/no/such/script"},
		"not executable": {Script: noexec},
		"missing dir":    {Dir: "/no/such/dir"},
		"bad interp":     {Script: noexec, Interpreter: []string{"/no/such/interp"}},
	} {
		if h, err := New(o); err == nil {
			h.Close()
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestHeadersBeforeBody: a script may answer before it reads its input
// (an echo); the body must still reach it whole.
func TestHeadersBeforeBody(t *testing.T) {
	script := writeScript(t, "printf 'Content-Type: text/plain\\n\\n'\ncat\n")
	h, _ := newHandler(t, Options{Script: script, Timeout: 20 * time.Second})
	for _, size := range []int{100, 300 << 10, 2 << 20} {
		in := strings.Repeat("x", size-1) + "\n"
		res, body := do(t, h, httptest.NewRequest("POST", "/", strings.NewReader(in)))
		if res.StatusCode != 200 || body != in {
			t.Errorf("%d bytes: %d, echoed %d bytes", size, res.StatusCode, len(body))
		}
	}
}

// TestScriptIgnoresBody: a script that exits without reading a large body
// ends the request without waiting for the whole upload.
func TestScriptIgnoresBody(t *testing.T) {
	script := writeScript(t, "printf 'Status: 413 Request Entity Too Large\\nContent-Type: text/plain\\n\\nno\\n'\n")
	h, _ := newHandler(t, Options{Script: script, Timeout: 20 * time.Second})
	srv := httptest.NewServer(h)
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, 64<<10)) // then stall: the rest never comes
	}()
	defer pw.Close()
	req, _ := http.NewRequest("POST", srv.URL, pr)
	req.ContentLength = 50 << 20
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Errorf("POST: %v", err)
			return
		}
		res.Body.Close()
		if res.StatusCode != 413 {
			t.Errorf("status %d, want 413", res.StatusCode)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("request hung on a body the script never read")
	}
}

// TestContentLengthEndsBody: the script's Content-Length ends the body
// the client gets; the script, still writing after it, ends on its own
// (not killed, nothing logged as a failure).
func TestContentLengthEndsBody(t *testing.T) {
	h, logs := newHandler(t, Options{Script: writeScript(t,
		"printf 'Content-Length: 2\\nContent-Type: text/plain\\n\\nokand more'; sleep 0.1; echo after; exit 0")})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Errorf("%d %q, want 200 \"ok\"", w.Code, w.Body.String())
	}
	if l := logs.String(); strings.Contains(l, "level=WARN") {
		t.Errorf("log: %s", l)
	}
}
