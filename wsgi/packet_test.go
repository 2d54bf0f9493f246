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
	sock, _ := startWorker(t)
	return sock
}

// startWorker is startBound with more worker arguments, also returning
// the worker's process.
func startWorker(t *testing.T, args ...string) (string, *peer.Process) {
	t.Helper()
	py := peer.RequirePython(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "worker.py")
	if err := os.WriteFile(script, workerPy, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "w.sock")
	// conform's marks go to a temporary directory, not testdata.
	env := []string{"PYTHONDONTWRITEBYTECODE=1", "CONFORM_MARKS=" + t.TempDir()}
	p := peer.Start(t, peer.StartOptions{Dir: testdata(t), Env: env},
		py, append([]string{script, "--module", "conform", "--bind", "unix:" + sock}, args...)...)
	p.WaitDial(t, "unix", sock)
	return sock, p
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

// keptConn is a connection to the worker whose requests ask to keep it
// (GOPASTE_KEEPALIVE, docs/protocols.md).
type keptConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialKept(t *testing.T, sock string) *keptConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &keptConn{t: t, c: c, br: bufio.NewReader(c)}
}

// keptPacket is the packet of a request for path that asks to keep the
// connection, with a body of n bytes announced.
func keptPacket(t *testing.T, method, path string, n int) []byte {
	return packet(t, 0, append(baseVars, "REQUEST_METHOD", method, "PATH_INFO", path, "SCRIPT_NAME", "",
		"CONTENT_LENGTH", fmt.Sprint(n), "GOPASTE_KEEPALIVE", "1")...)
}

// do sends method path with body and reads the reply; err is the error
// reading its body.
func (k *keptConn) do(method, path, body string) (res *http.Response, got string, err error) {
	k.t.Helper()
	if _, err := k.c.Write(append(keptPacket(k.t, method, path, len(body)), body...)); err != nil {
		k.t.Fatalf("%s %s: %v", method, path, err)
	}
	return k.read(method)
}

func (k *keptConn) read(method string) (*http.Response, string, error) {
	k.t.Helper()
	res, err := http.ReadResponse(k.br, &http.Request{Method: method})
	if err != nil {
		k.t.Fatalf("%s: reading the reply: %v", method, err)
	}
	b, err := io.ReadAll(res.Body)
	return res, string(b), err
}

// closed reports whether the worker closed the connection: nothing more
// comes, then the end.
func (k *keptConn) closed() bool {
	k.t.Helper()
	b, err := io.ReadAll(k.br)
	if len(b) > 0 {
		k.t.Errorf("after the reply: %q", b)
	}
	return err == nil
}

func keptAlive(res *http.Response) bool {
	return len(res.Header["Connection"]) == 1 && res.Header.Get("Connection") == "keep-alive"
}

// TestKeepAlive: gopaste's uwsgi keep-alive, the worker's side: every
// kind of reply on one connection, each framed (Content-Length, chunked,
// none for HEAD and 204) and saying "Connection: keep-alive"; the
// variable never reaches the application.
func TestKeepAlive(t *testing.T) {
	sock := startBound(t)
	k := dialKept(t, sock)
	cases := []struct {
		method, path, body string
		want               string // the body
		chunked            bool
	}{
		{"GET", "/hello", "", "Hello, World!\n", false},
		{"GET", "/nolength", "", "no length here", true}, // validate's iterator: streamed
		{"GET", "/generator", "", "chunk0;chunk1;chunk2;chunk3;chunk4;", true},
		{"GET", "/write", "", "written then returned", true},
		{"HEAD", "/hello", "", "", false},
		{"HEAD", "/nolength", "", "", false},
		{"GET", "/no-content-body", "", "", false},
		{"POST", "/echo", "hello world", "hello world|11", false},
		{"POST", "/unread", "not read by the application", "unread", false},
		{"GET", "/excinfo-before", "", "sorry", true},
		{"GET", "/own-connection", "", "own", true},
		{"GET", "/close-ok", "", "closing", true},
		{"GET", "/hello", "", "Hello, World!\n", false},
	}
	for _, c := range cases {
		res, body, err := k.do(c.method, c.path, c.body)
		if err != nil || body != c.want {
			t.Fatalf("%s %s: body %q (%v), want %q", c.method, c.path, body, err, c.want)
		}
		if !keptAlive(res) {
			t.Errorf("%s %s: Connection %q, want keep-alive", c.method, c.path, res.Header["Connection"])
		}
		if chunked := len(res.TransferEncoding) > 0; chunked != c.chunked || (!chunked && c.method == "GET" && res.ContentLength != int64(len(c.want))) {
			t.Errorf("%s %s: chunked %v, Content-Length %d", c.method, c.path, chunked, res.ContentLength)
		}
	}
	file, err := os.ReadFile(filepath.Join(testdata(t), "conform.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/file", "/file-length"} {
		if res, body, err := k.do("GET", path, ""); err != nil || body != string(file) || !keptAlive(res) || res.ContentLength != int64(len(file)) {
			t.Errorf("sendfile %s: %d bytes of %d (%v), Content-Length %d, Connection %q", path, len(body), len(file), err, res.ContentLength, res.Header["Connection"])
		}
	}
	res, body, err := k.do("GET", "/environ", "")
	var m map[string]any
	if err != nil || json.Unmarshal([]byte(body), &m) != nil || !keptAlive(res) {
		t.Fatalf("environ: %q (%v)", body, err)
	}
	if v, ok := m["GOPASTE_KEEPALIVE"]; ok {
		t.Errorf("the application sees GOPASTE_KEEPALIVE=%v", v)
	}

	// The body of a request arrives after the reply: read and dropped
	// before the next request.
	if _, err := k.c.Write(keptPacket(t, "POST", "/unread", 1000)); err != nil {
		t.Fatal(err)
	}
	if res, body, err := k.read("POST"); err != nil || body != "unread" || !keptAlive(res) {
		t.Fatalf("a body still to come: %q (%v), Connection %q", body, err, res.Header["Connection"])
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := k.c.Write([]byte(strings.Repeat("x", 1000))); err != nil {
		t.Fatal(err)
	}
	if _, body, err := k.do("GET", "/hello", ""); err != nil || body != "Hello, World!\n" {
		t.Fatalf("after a body sent late: %q (%v)", body, err)
	}

	// Two requests in one write: both answered, in order.
	two := append(keptPacket(t, "GET", "/hello", 0), keptPacket(t, "POST", "/echo", 3)...)
	if _, err := k.c.Write(append(two, "abc"...)); err != nil {
		t.Fatal(err)
	}
	if _, body, err := k.read("GET"); err != nil || body != "Hello, World!\n" {
		t.Fatalf("first of two: %q (%v)", body, err)
	}
	if _, body, err := k.read("POST"); err != nil || body != "abc|3" {
		t.Fatalf("second of two: %q (%v)", body, err)
	}

	// Without the variable, the reply is as it always was: no
	// Connection header, and the connection closes. (The worker's one
	// thread serves the kept connection until it closes: gopaste keeps
	// no more connections to a worker than it has threads.)
	k.c.Close()
	r := exchange(t, sock, packet(t, 0, append(baseVars, "PATH_INFO", "/hello", "SCRIPT_NAME", "")...))
	if !strings.HasSuffix(r, "Hello, World!\n") || strings.Contains(r, "Connection") {
		t.Errorf("a request without GOPASTE_KEEPALIVE: %q", r)
	}
}

// TestKeepAliveCloses: a reply the worker cannot frame exactly, or an
// exception, ends the connection: no "Connection: keep-alive", or the
// connection closed under a broken reply.
func TestKeepAliveCloses(t *testing.T) {
	sock := startBound(t)
	for _, c := range []struct {
		path, body string
		want       string
		broken     bool // the body ends early
		kept       bool // the head (sent before the fault) says keep-alive
	}{
		{"/close-on-error", "", "3\r\none\r\n", true, true},    // an exception mid-stream
		{"/excinfo-after", "", "7\r\npartial\r\n", true, true}, // exc_info after the head
		{"/error", "", "Internal Server Error\n", false, false},
		{"/too-long", "", "12345", false, false},       // more than its Content-Length, known at once
		{"/too-long-stream", "", "12345", false, true}, // found out after the head
		{"/unread", strings.Repeat("b", 200000), "unread", false, false},
	} {
		k := dialKept(t, sock)
		pkt := keptPacket(t, "POST", c.path, len(c.body))
		go func() { k.c.Write(append(pkt, c.body...)) }() // a large body fills the socket
		res, err := http.ReadResponse(k.br, &http.Request{Method: "POST"})
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		var body []byte
		if c.broken {
			// The chunks as they came, up to the end of the connection.
			body, err = io.ReadAll(k.br)
		} else {
			body, err = io.ReadAll(res.Body)
		}
		if string(body) != c.want || err != nil {
			t.Errorf("%s: body %q (%v), want %q", c.path, body, err, c.want)
		}
		if keptAlive(res) != c.kept {
			t.Errorf("%s: Connection %q", c.path, res.Header["Connection"])
		}
		if !c.broken && !k.closed() {
			t.Errorf("%s: the connection was not closed", c.path)
		}
	}
	// Still serving.
	if _, body, err := dialKept(t, sock).do("GET", "/hello", ""); body != "Hello, World!\n" {
		t.Errorf("after: %q (%v)", body, err)
	}
}

// TestKeepAliveStops: the last reply before max_requests says nothing of
// keep-alive and closes the connection; after SIGTERM, a request in
// flight ends whole, and each kept connection may bring one more request,
// answered without keep-alive, before the worker exits; one that brings
// none holds it only a moment (KEEP_LINGER).
func TestKeepAliveStops(t *testing.T) {
	sock, p := startWorker(t, "--max-requests", "3")
	k := dialKept(t, sock)
	for i := 1; i <= 3; i++ {
		res, body, err := k.do("GET", "/hello", "")
		if err != nil || body != "Hello, World!\n" || keptAlive(res) != (i < 3) {
			t.Fatalf("request %d of 3: %q (%v), Connection %q", i, body, err, res.Header["Connection"])
		}
	}
	if !k.closed() {
		t.Error("the connection outlived max_requests")
	}
	exits := func(p *peer.Process, within time.Duration, what string) {
		t.Helper()
		select {
		case <-p.Done():
		case <-time.After(within):
			t.Fatalf("the worker did not exit %s", what)
		}
	}
	exits(p, 10*time.Second, "after max_requests")

	sock, p = startWorker(t, "--threads", "2") // one for the idle connection, one for the busy one
	idle := dialKept(t, sock)
	if res, _, err := idle.do("GET", "/hello", ""); err != nil || !keptAlive(res) {
		t.Fatalf("first request: %v, Connection %q", err, res.Header["Connection"])
	}
	busy := dialKept(t, sock)
	if _, err := busy.c.Write(keptPacket(t, "GET", "/stream", 0)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(busy.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	p.Signal(syscall.SIGTERM)
	if b, err := io.ReadAll(res.Body); err != nil || string(b) != "first\nsecond\n" {
		t.Errorf("the request in flight at SIGTERM: %q (%v)", b, err)
	}
	for name, k := range map[string]*keptConn{"idle": idle, "busy": busy} {
		res, body, err := k.do("GET", "/hello", "")
		if err != nil || body != "Hello, World!\n" || keptAlive(res) {
			t.Errorf("%s connection, request after SIGTERM: %q (%v), Connection %q", name, body, err, res.Header["Connection"])
		}
		if !k.closed() {
			t.Errorf("%s connection: kept after SIGTERM", name)
		}
	}
	exits(p, 3*time.Second, "once its kept connections were done")

	sock, p = startWorker(t)
	if res, _, err := dialKept(t, sock).do("GET", "/hello", ""); err != nil || !keptAlive(res) {
		t.Fatalf("first request: %v", err)
	}
	p.Signal(syscall.SIGTERM)
	exits(p, 15*time.Second, "with an idle kept connection")
}
