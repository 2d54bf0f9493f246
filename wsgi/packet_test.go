package wsgi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/uwsgi"
)

// startBound runs worker.py on its own, bound to a unix socket (--bind),
// serving testdata's conform application.
func startBound(t *testing.T) string {
	t.Helper()
	py := peer.RequirePython(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "worker.py")
	if err := os.WriteFile(script, workerPy, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "w.sock")
	p := peer.Start(t, peer.StartOptions{Dir: testdata(t), Env: []string{"PYTHONDONTWRITEBYTECODE=1"}},
		py, script, "--module", "conform", "--bind", "unix:"+sock)
	p.WaitDial(t, "unix", sock)
	return sock
}

// exchange sends raw to the worker in pieces, pausing between them, and
// returns the whole reply.
func exchange(t *testing.T, sock string, pieces ...[]byte) string {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for i, p := range pieces {
		if i > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if len(pieces) == 0 {
		// A connection that sends nothing: the worker waits for the
		// packet (only gopaste, which always sends one, can reach its
		// socket), so end it as a probe does.
		c.(*net.UnixConn).CloseWrite()
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

func packet(t *testing.T, modifier1 uint8, vars ...string) []byte {
	t.Helper()
	var vs []uwsgi.Var
	for i := 0; i+1 < len(vars); i += 2 {
		vs = append(vs, uwsgi.Var{Name: vars[i], Value: vars[i+1]})
	}
	b, err := uwsgi.AppendPacket(nil, modifier1, 0, vs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var baseVars = []string{"REQUEST_METHOD", "GET", "SERVER_NAME", "example.com", "SERVER_PORT", "80",
	"SERVER_PROTOCOL", "HTTP/1.1", "QUERY_STRING", ""}

// TestPacket: the worker's side of the protocol, byte by byte: a packet
// in pieces, a vars block near the 64 KiB limit, modifier1 30, a body
// after the packet in another write, a malformed block, no request.
func TestPacket(t *testing.T) {
	sock := startBound(t)
	env := func(reply string) map[string]any {
		t.Helper()
		res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(reply)), nil)
		if err != nil {
			t.Fatalf("reply %.300q: %v", reply, err)
		}
		body, err := io.ReadAll(res.Body)
		var m map[string]any
		if err != nil || json.Unmarshal(body, &m) != nil {
			t.Fatalf("reply %.300q is not an environ dump (%v)", reply, err)
		}
		return m
	}

	p := packet(t, 0, append(baseVars, "PATH_INFO", "/environ", "SCRIPT_NAME", "", "HTTP_X_A", "1")...)
	m := env(exchange(t, sock, p[:2], p[2:9], p[9:]))
	if m["HTTP_X_A"] != "1" || m["PATH_INFO"] != "/environ" {
		t.Errorf("packet in pieces: environ %v", m)
	}

	big := strings.Repeat("b", 60000)
	m = env(exchange(t, sock, packet(t, 0, append(baseVars, "PATH_INFO", "/environ", "SCRIPT_NAME", "", "HTTP_COOKIE", big)...)))
	if m["HTTP_COOKIE"] != big {
		t.Errorf("a 60 KB cookie came as %d bytes", len(m["HTTP_COOKIE"].(string)))
	}

	m = env(exchange(t, sock, packet(t, 30, append(baseVars, "PATH_INFO", "/app/environ", "SCRIPT_NAME", "/app")...)))
	if m["PATH_INFO"] != "/environ" || m["SCRIPT_NAME"] != "/app" {
		t.Errorf("modifier1 30: PATH_INFO %v SCRIPT_NAME %v, want /environ and /app", m["PATH_INFO"], m["SCRIPT_NAME"])
	}

	p = packet(t, 0, append(baseVars, "REQUEST_METHOD", "POST", "PATH_INFO", "/echo", "SCRIPT_NAME", "",
		"CONTENT_LENGTH", "11", "HTTP_CONTENT_LENGTH", "11")...)
	if r := exchange(t, sock, p, []byte("hello"), []byte(" world")); !strings.HasSuffix(r, "hello world|11") {
		t.Errorf("body after the packet: %q", r)
	}

	bad := packet(t, 0, append(baseVars, "PATH_INFO", "/hello")...)
	bad[4] = 0xff // the first name's length now runs past the block
	if r := exchange(t, sock, bad); !strings.HasPrefix(r, "HTTP/1.1 400 ") {
		t.Errorf("malformed vars: %q, want 400", r)
	}
	if r := exchange(t, sock, packet(t, 5, baseVars...)); r != "" {
		t.Errorf("modifier1 5: %q, want the connection closed", r)
	}
	if r := exchange(t, sock); r != "" {
		t.Errorf("no request: %q", r)
	}
	// Still serving.
	if r := exchange(t, sock, packet(t, 0, append(baseVars, "PATH_INFO", "/hello", "SCRIPT_NAME", "")...)); !strings.HasSuffix(r, "Hello, World!\n") {
		t.Errorf("after the bad packets: %q", r)
	}
}

// TestParentDies: a worker whose parent is killed (gopaste under
// SIGKILL, which cannot stop its workers) stops by itself instead of
// holding its socket forever.
func TestParentDies(t *testing.T) {
	py := peer.RequirePython(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "worker.py")
	if err := os.WriteFile(script, workerPy, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "w.sock")
	// sh is the parent: it starts the worker, says its pid, and waits.
	p := peer.Start(t, peer.StartOptions{Dir: testdata(t), Env: []string{"PYTHONDONTWRITEBYTECODE=1"}},
		"/bin/sh", "-c", `"$0" "$1" --module conform --bind "unix:$2" & echo "worker $!"; wait`, py, script, sock)
	p.WaitDial(t, "unix", sock)
	var pid int
	waitUntil(t, "sh says the worker's pid", func() bool {
		_, err := fmt.Sscanf(p.Output(), "worker %d", &pid)
		return err == nil && pid > 1
	})
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) }) // if the test fails
	// SIGKILL to the parent only, not its group.
	p.Signal(syscall.SIGKILL)
	<-p.Done()
	waitUntil(t, "the orphaned worker has stopped", func() bool { return syscall.Kill(pid, 0) != nil })
}
