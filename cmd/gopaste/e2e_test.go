package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/peer"
)

// gopasteBinary is the command, built once per test run.
func gopasteBinary(t *testing.T) string { return peer.Gopaste(t) }

// served is a running "gopaste serve".
type served struct {
	cmd  *exec.Cmd
	addr string
	logs *logbuf.Buffer
	done chan error
}

var addrRe = regexp.MustCompile(`msg=listening .*addr=(\S+)`)

func serve(t *testing.T, args ...string) *served {
	t.Helper()
	return serveBinary(t, gopasteBinary(t), args...)
}

// serveBinary runs "bin serve args..." until it logs its address.
func serveBinary(t *testing.T, bin string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	pr, pw := io.Pipe()
	s := &served{cmd: cmd, logs: &logbuf.Buffer{}}
	cmd.Stdout = s.logs
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = reap(t, cmd, func() { pw.Close() })
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.logs.Write([]byte(line + "\n"))
			if m := addrRe.FindStringSubmatch(line); m != nil && !sent {
				addrc <- m[1]
				sent = true
			}
		}
	}()
	select {
	case s.addr = <-addrc:
	case err := <-s.done:
		t.Fatalf("gopaste serve exited early: %v\n%s", err, s.logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("gopaste serve did not log its address:\n%s", s.logs)
	}
	return s
}

// reap waits for cmd in the background and sends its exit on the
// channel returned, after running exited (if not nil). At the test's
// cleanup a process still running is killed and waited for; the check
// does not read cmd.ProcessState, which Wait writes meanwhile.
func reap(t *testing.T, cmd *exec.Cmd, exited func()) chan error {
	done := make(chan error, 1)
	gone := make(chan struct{})
	go func() {
		err := cmd.Wait()
		if exited != nil {
			exited()
		}
		done <- err
		close(gone)
	}()
	t.Cleanup(func() {
		select {
		case <-gone:
		default:
			cmd.Process.Kill()
			<-gone
		}
	})
	return done
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "site.ini")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const siteConfig = `
[composite:main]
use = egg:Paste#urlmap
/ = overlay
/env = envapp
/files = files

[composite:overlay]
use = cascade
app1 = files
app2 = envapp

[app:envapp]
use = env
max_body = 1M

[app:files]
use = static
document_root = %(here)s/public

[server:main]
use = http
host = 127.0.0.1
port = 0
graceful_timeout = 20s
`

// TestServeEndToEnd serves a config from another working directory,
// requests through urlmap, cascade and static, then sends SIGTERM while a
// slow upload is in flight: that request must complete and the process
// must exit 0.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "public"), 0o755)
	os.WriteFile(filepath.Join(dir, "public", "hello.txt"), []byte("hello from disk\n"), 0o644)
	cfg := writeConfig(t, dir, siteConfig)
	s := serve(t, cfg)
	base := "http://" + s.addr

	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/hello.txt", "hello from disk", 200},       // cascade: static first
		{"/nofile", `"PATH_INFO": "/nofile"`, 200},   // cascade falls through to env
		{"/env/a/b", `"SCRIPT_NAME": "/env"`, 200},   // urlmap mount
		{"/files/hello.txt", "hello from disk", 200}, // static under a mount
		// An unclean path is redirected to /site.ini (env answers), never the file.
		{"/files/../site.ini", `"PATH_INFO": "/site.ini"`, 200},
	} {
		code, body := get(t, base+tc.path)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tc.path, code, body, tc.code, tc.want)
		}
	}

	checkDrains(t, s, "/env/slow", func() {
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	})
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("gopaste serve exited with %v, want 0\n%s", err, s.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("gopaste serve did not exit after SIGTERM\n%s", s.logs)
	}
}

// checkDrains sends a slow upload to path (an env app) whose body
// arrives in two parts with stop called between: the server must drain,
// not drop it, and answer once the body is complete.
func checkDrains(t *testing.T, s *served, path string, stop func()) {
	t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server answers "100 Continue" once the app starts reading the
	// body: the request is in flight then, whatever the machine's load.
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n", path)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("no 100 Continue: %v %v\n%s", resp, err, s.logs)
	}
	fmt.Fprintf(conn, "first")
	stop()
	waitForLog(t, s, "shutting down")
	fmt.Fprintf(conn, "-last")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("in-flight request was dropped: %v\n%s", err, s.logs)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"body": "first-last"`) {
		t.Errorf("in-flight request got %d %s", resp.StatusCode, body)
	}
}

func waitForLog(t *testing.T, s *served, substr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.logs.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", substr, s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeReload changes the config under --reload: the new app serves,
// and a broken config keeps the last good one serving.
func TestServeReload(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "[app:main]\nuse = env\nversion = one\n\n[server:main]\nuse = http\nport = 0\n")
	s := serve(t, cfg, "--reload", "--reload-interval", "50ms")
	base := "http://" + s.addr
	if _, body := get(t, base+"/"); !strings.Contains(body, `"version": "one"`) {
		t.Fatalf("first config not served: %s", body)
	}
	// Same size, different content: the watcher must still notice (mtime).
	writeConfig(t, dir, "[app:main]\nuse = env\nversion = two\n\n[server:main]\nuse = http\nport = 0\n")
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(cfg, future, future)
	waitFor(t, func() bool { _, b := get(t, base+"/"); return strings.Contains(b, `"version": "two"`) }, s)

	writeConfig(t, dir, "[app:main]\nuse = nosuchapp\n\n[server:main]\nuse = http\nport = 0\n")
	waitForLog(t, s, "reload failed")
	if code, body := get(t, base+"/"); code != 200 || !strings.Contains(body, `"version": "two"`) {
		t.Errorf("after a broken reload got %d %s, want the previous app", code, body)
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	if err := <-s.done; err != nil {
		t.Errorf("exit: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool, s *served) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("condition not met in time\n%s", s.logs)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestDemoNeedsNothing serves the built-in demo with no config.
func TestDemoNeedsNothing(t *testing.T) {
	s := serve(t, "--port", "0")
	base := "http://" + s.addr
	for path, want := range map[string]string{
		"/":                 "gopaste is a Go meta-framework",
		"/env":              `"SCRIPT_NAME": "/env"`,
		"/static/hello.txt": "embedded static directory",
		"/session/":         `"visits":1`,
	} {
		if code, body := get(t, base+path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %.200q, want 200 containing %q", path, code, body, want)
		}
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-s.done; err != nil {
		t.Errorf("exit: %v", err)
	}
}

// TestReloadKeepsMemorySessions: a user's session in the memory store
// survives a live reload of the config.
func TestReloadKeepsMemorySessions(t *testing.T) {
	dir := t.TempDir()
	conf := func(version string) string {
		return "[pipeline:main]\npipeline = sess info\n\n[filter:sess]\nuse = session\nstore = memory\n\n[app:info]\nuse = session_info\n# " + version + "\n\n[server:main]\nuse = http\nport = 0\n"
	}
	cfg := writeConfig(t, dir, conf("one"))
	s := serve(t, cfg, "--reload", "--reload-interval", "50ms")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	visit := func() string {
		resp, err := c.Get("http://" + s.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	visit()
	if got := visit(); !strings.Contains(got, `"visits":2`) {
		t.Fatalf("second visit: %s", got)
	}
	writeConfig(t, dir, conf("two, a longer comment"))
	waitForLog(t, s, "reloaded")
	if got := visit(); !strings.Contains(got, `"visits":3`) {
		t.Errorf("after reload: %s (the session was lost)", got)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
}

// TestSignalsReachParts: SIGUSR1 reopens the access log and the error log
// (log_file) after logrotate moved them, and SIGHUP reloads the config;
// the process survives both.
func TestSignalsReachParts(t *testing.T) {
	dir := t.TempDir()
	conf := func(body string) string {
		return "[pipeline:main]\npipeline = access app\n\n[filter:access]\nuse = accesslog\nfile = access.log\nflush_interval = 0\n\n" +
			"[app:app]\nuse = text\nbody = " + body + "\n\n[server:main]\nuse = http\nport = 0\nlog_file = error.log\n"
	}
	cfg := writeConfig(t, dir, conf("one"))
	// The address goes to error.log; --log-file on the command line would
	// win, so the test reads the file.
	cmd := exec.Command(gopasteBinary(t), "serve", cfg)
	var stderr logbuf.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, logs: &stderr, done: reap(t, cmd, nil)}
	var addr string
	waitFor(t, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		if m := addrRe.FindSubmatch(b); m != nil {
			addr = string(m[1])
		}
		return addr != ""
	}, s)
	if _, body := get(t, "http://"+addr+"/"); body != "one" {
		t.Fatalf("got %q", body)
	}
	for _, f := range []string{"access.log", "error.log"} {
		if err := os.Rename(filepath.Join(dir, f), filepath.Join(dir, f+".1")); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Process.Signal(syscall.SIGUSR1)
	waitFor(t, func() bool {
		_, err1 := os.Stat(filepath.Join(dir, "access.log"))
		_, err2 := os.Stat(filepath.Join(dir, "error.log"))
		return err1 == nil && err2 == nil
	}, s)
	writeConfig(t, dir, conf("two"))
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, func() bool { _, b := get(t, "http://"+addr+"/"); return b == "two" }, s)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-s.done; err != nil {
		t.Errorf("exit: %v\n%s", err, stderr.String())
	}
	for f, want := range map[string]string{"access.log.1": `"GET / HTTP/1.1" 200 3`, "access.log": `"GET / HTTP/1.1" 200 3`,
		"error.log.1": "msg=listening", "error.log": "msg=reloaded"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); !strings.Contains(string(b), want) {
			t.Errorf("%s = %q, want it to contain %s", f, b, want)
		}
	}
}
