package cli_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/servetest"
	"github.com/gopaste/gopaste/registry"
)

// serveBg runs "gopaste serve args..." with env until the test ends (or
// stopServe) and returns the address it logged.
func serveBg(t *testing.T, env *cli.Env, logs *logbuf.Buffer, args ...string) (string, *servetest.Served) {
	t.Helper()
	return servetest.Serve(t, env, logs, args...)
}

// stopServe cancels serve's context and wants exit status 0.
func stopServe(t *testing.T, s *servetest.Served, logs *logbuf.Buffer) {
	t.Helper()
	s.Stop(t, logs)
}

// getBody GETs url and returns the body, failing the test when the
// request fails.
func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

func waitLog(t *testing.T, logs *logbuf.Buffer, substr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", substr, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeReportsEveryError (issue 13): serve reports every error of
// the file at once, exactly as check does.
func TestServeReportsEveryError(t *testing.T) {
	cfg := config(t, `[pipeline:main]
pipeline = gz missing app

[filter:gz]
use = gzip
levle = 3

[app:app]
use = static

[server:main]
use = http
port = eighty
`)
	code, _, serveErrs := run(t, "serve", cfg)
	if code != 1 {
		t.Errorf("serve exited %d, want 1", code)
	}
	_, _, checkErrs := run(t, "check", cfg)
	if serveErrs != checkErrs {
		t.Errorf("serve said:\n%s\ncheck said:\n%s", serveErrs, checkErrs)
	}
	if !strings.HasPrefix(serveErrs, "4 error(s):\n") {
		t.Errorf("want 4 errors:\n%s", serveErrs)
	}
}

// TestServeLogsIgnoredSections (issue 13): serve logs the warnings check
// gives, as log records in the configured format, at the configured
// level, to the configured file.
func TestServeLogsIgnoredSections(t *testing.T) {
	// ([loggers] and Python's other logging sections are not ignored:
	// they go to the Python workers.)
	body := "[app:main]\nuse = text\nbody = hi\n\n[pshell]\nsetup = x\n\n[server:main]\nuse = console\n"
	cfg := config(t, body)
	_, _, errs := run(t, "serve", cfg)
	if !strings.Contains(errs, "level=WARN") || !strings.Contains(errs, "[pshell]: section is not one PasteDeploy knows") {
		t.Errorf("no warning about the ignored section:\n%s", errs)
	}

	_, _, errs = run(t, "serve", cfg, "--log-format", "json")
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(errs)), &rec); err != nil || rec["level"] != "WARN" {
		t.Errorf("--log-format json: %q (%v)", errs, err)
	}
	if _, _, errs = run(t, "serve", cfg, "--log-level", "error"); errs != "" {
		t.Errorf("--log-level error still logged:\n%s", errs)
	}
	if code, _, errs := run(t, "serve", cfg, "--log-level", "loud"); code != 2 || !strings.Contains(errs, "--log-level") {
		t.Errorf("a bad --log-level: exit %d %q", code, errs)
	}

	// The same from the server section's keys; the flag wins over them.
	cfg = config(t, body+"log_format = json\nlog_file = error.log\n")
	if _, _, errs = run(t, "serve", cfg); errs != "" {
		t.Errorf("log_file set, yet stderr got:\n%s", errs)
	}
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "error.log"))
	if !strings.HasPrefix(string(b), "{") || !strings.Contains(string(b), "[pshell]") {
		t.Errorf("error.log = %q", b)
	}
	run(t, "serve", cfg, "--log-format", "text")
	b2, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "error.log"))
	if len(b2) <= len(b) || !strings.Contains(string(b2[len(b):]), "level=WARN") {
		t.Errorf("--log-format text did not win over log_format = json: %q", b2)
	}
	cfg = config(t, body+"log_level = verbose\n")
	if code, _, errs := run(t, "serve", cfg); code != 1 || !strings.Contains(errs, `key "log_level": "verbose" is not one of debug, info, warn, error`) {
		t.Errorf("a bad log_level: exit %d %q", code, errs)
	}
}

// TestServeListenFailureNamesPlace (issue 13): a port in use is reported
// with the file, line and section that set it.
func TestServeListenFailureNamesPlace(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	cfg := config(t, "[app:main]\nuse = text\nbody = hi\n\n[server:main]\nuse = http\nport = "+strconv.Itoa(port)+"\n")
	code, _, errs := run(t, "serve", cfg)
	want := cfg + `:7: [server:main]: key \"port\": listen tcp 127.0.0.1:` + strconv.Itoa(port) + ": bind: address already in use"
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant it to contain %s", code, errs, want)
	}
	// --port is named as the place when it sets the port.
	code, _, errs = run(t, "serve", config(t, "[app:main]\nuse = text\nbody = hi\n"), "--port", strconv.Itoa(port))
	if code != 1 || !strings.Contains(errs, `--port: [server:main]: key \"port\": listen tcp`) {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
}

// TestReloadClosesOldGenerationWhenIdle: after SIGHUP the new config
// serves at once, and the old one's parts are closed when the request
// still running on it ends, not before.
func TestReloadClosesOldGenerationWhenIdle(t *testing.T) {
	reg := registry.New()
	for _, k := range []registry.Kind{registry.ServerKind, registry.ProtocolKind} {
		for _, p := range registry.Default.Parts(k) {
			if err := reg.Add(*p); err != nil {
				t.Fatal(err)
			}
		}
	}
	var closed atomic.Int64 // generations closed
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	reg.AddApp("slow", func(c *registry.Config) (http.Handler, error) {
		if !c.CheckOnly { // serve's first, check-only load serves nothing
			c.OnClose(closerFunc(func() error { closed.Add(1); return nil }))
		}
		v := c.String("version", "")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				entered <- struct{}{}
				<-release
			}
			io.WriteString(w, v)
		}), c.Err()
	}, "test")
	cfg := config(t, "[app:main]\nuse = slow\nversion = one\n\n[server:main]\nuse = http\nport = 0\n")
	hup := make(chan struct{})
	var logs logbuf.Buffer
	addr, _ := serveBg(t, &cli.Env{Registry: reg, Hangup: hup}, &logs, cfg)

	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	<-entered
	os.WriteFile(cfg, []byte("[app:main]\nuse = slow\nversion = two\n\n[server:main]\nuse = http\nport = 0\n"), 0o644)
	hup <- struct{}{}
	waitLog(t, &logs, "msg=reloaded")
	if b := getBody(t, "http://"+addr+"/"); b != "two" {
		t.Errorf("after reload got %q, want two", b)
	}
	if n := closed.Load(); n != 0 {
		t.Fatalf("%d generations closed while a request ran on the old one", n)
	}
	close(release)
	if got := <-slow; got != "one" {
		t.Errorf("the in-flight request got %q, want one", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for closed.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("old generation not closed after its last request; closed = %d", closed.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServeReopensOnSignal: a request on Env.Reopen (SIGUSR1) reopens the
// error log (log_file) and the access log after logrotate moved them.
func TestServeReopensOnSignal(t *testing.T) {
	cfg := config(t, `[pipeline:main]
pipeline = access app

[filter:access]
use = accesslog
file = access.log
flush_interval = 0

[app:app]
use = text
body = hi

[server:main]
use = http
port = 0
log_file = error.log
`)
	dir := filepath.Dir(cfg)
	reopen := make(chan struct{})
	var logs logbuf.Buffer
	env := &cli.Env{Reopen: reopen}
	// The address is logged to error.log, not to stderr: read it there.
	ctx, cancel := context.WithCancel(context.Background())
	env.Context, env.Stderr, env.Stdout = ctx, &logs, io.Discard
	done := make(chan int, 1)
	go func() { done <- cli.Main(env, []string{"serve", cfg}) }()
	defer func() { cancel(); <-done }()
	re := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		if m := re.FindSubmatch(b); m != nil {
			addr = string(m[1])
		} else if time.Now().After(deadline) {
			t.Fatalf("no address in error.log:\n%s\nstderr:\n%s", b, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	get := func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get()
	for _, f := range []string{"access.log", "error.log"} {
		if err := os.Rename(filepath.Join(dir, f), filepath.Join(dir, f+".1")); err != nil {
			t.Fatal(err)
		}
	}
	reopen <- struct{}{}
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, err1 := os.Stat(filepath.Join(dir, "access.log"))
		_, err2 := os.Stat(filepath.Join(dir, "error.log"))
		if err1 == nil && err2 == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("files not reopened: %v, %v", err1, err2)
		}
		time.Sleep(5 * time.Millisecond)
	}
	get()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	done <- 0
	for f, want := range map[string]string{"access.log.1": `"GET / HTTP/1.1" 200`, "access.log": `"GET / HTTP/1.1" 200`,
		"error.log.1": "msg=listening", "error.log": "msg=\"shutting down\""} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if !strings.Contains(string(b), want) || strings.Count(string(b), "\n") < 1 {
			t.Errorf("%s = %q, want it to contain %s", f, b, want)
		}
	}
	if logs.String() != "" {
		t.Errorf("stderr got lines with log_file set:\n%s", logs.String())
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// TestServeAndCheckShareArguments: NAME=VALUE (NAME without "/") is a
// global for both commands, wherever it stands among the flags; any other
// argument is the config file.
func TestServeAndCheckShareArguments(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "a=b.ini")
	os.WriteFile(cfg, []byte("[app:main]\nuse = text\nbody = %(greeting)s from %(db.url)s\n\n[server:main]\nuse = console\n"), 0o644)
	code, out, errs := run(t, "check", "db.url=sqlite:///x.db", cfg, "greeting=hello")
	if code != 0 || !strings.Contains(out, "db.url = sqlite:///x.db  ((command line))") {
		t.Errorf("check: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = run(t, "serve", "db.url=sqlite:///x.db", cfg, "greeting=hello")
	if code != 0 || !strings.HasSuffix(out, "hello from sqlite:///x.db") {
		t.Errorf("serve: exit %d\n%s\n%s", code, out, errs)
	}
	// A file whose name has a "=" is named with a "/".
	if code, _, errs := run(t, "check", "a=b.ini"); code != 2 || !strings.Contains(errs, "a CONFIG file is required") {
		t.Errorf("a=b.ini was not taken as a global: exit %d %s", code, errs)
	}
	if code, _, errs := run(t, "serve", cfg, cfg); code != 2 || !strings.Contains(errs, "more than one config") {
		t.Errorf("two configs: exit %d %s", code, errs)
	}
}

// TestWorkersSignalWithoutPrefork: a request to change the number of
// workers (SIGTTIN, SIGTTOU) reaching a server that is not a prefork
// master, with no process or wsgi app, is logged and ignored; the
// server goes on serving. (process/serve_test.go has one that changes
// a process app's workers.)
func TestWorkersSignalWithoutPrefork(t *testing.T) {
	cfg := config(t, "[app:main]\nuse = text\nbody = still here\n\n[server:main]\nuse = http\nport = 0\n")
	workers := make(chan int, 1)
	var logs logbuf.Buffer
	addr, _ := serveBg(t, &cli.Env{Workers: workers}, &logs, cfg)
	workers <- 1
	waitLog(t, &logs, "this config has none; ignored")
	if b := getBody(t, "http://"+addr+"/"); b != "still here" {
		t.Errorf("got %q", b)
	}
}

// serve reads its config once: from a named pipe, which gives its bytes
// to one reader only, it serves. (It used to build the config check-only
// first, in case this was a prefork master, and then read it again.)
func TestServeReadsConfigOnce(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "site.ini")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString("[app:main]\nuse = text\nbody = from a pipe\n\n[server:main]\nuse = http\nport = 0\n")
		f.Close()
	}()
	go func() {
		// A second reader, if any, waits for a writer: at the end of the
		// test (before serveBg's cleanup waits for serve), give it an
		// empty one so that serve can end.
		<-t.Context().Done()
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}()
	var logs logbuf.Buffer
	addr, s := serveBg(t, &cli.Env{}, &logs, fifo)
	if b := getBody(t, "http://"+addr+"/"); b != "from a pipe" {
		t.Errorf("got %q", b)
	}
	stopServe(t, s, &logs)
}
