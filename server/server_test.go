package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/logbuf"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs a Server in the background and returns its address.
func start(t *testing.T, o Options, h http.Handler) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	s := &Server{Options: o, Logger: quiet(), Ready: func(a net.Addr) { addrc <- a.String() }}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	select {
	case a := <-addrc:
		return a
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	return ""
}

func hello(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+r.Proto) }

func TestHTTPServes(t *testing.T) {
	addr := start(t, Options{Protocol: "http"}, http.HandlerFunc(hello))
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello HTTP/1.1" {
		t.Errorf("body %q", b)
	}
}

func TestUnixSocketAndMode(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	// A stale socket file from a dead process is replaced.
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	start(t, Options{Protocol: "http", Listen: ListenConfig{Socket: sock, SocketMode: 0o600}}, http.HandlerFunc(hello))
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v", fi.Mode().Perm())
	}
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return net.Dial("unix", sock)
	}}}
	resp, err := c.Get("http://unix/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestListenRefusesNonSocketPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "file")
	os.WriteFile(p, []byte("x"), 0o644)
	if _, err := (ListenConfig{Socket: p}).Listen(quiet()); err == nil {
		t.Error("listened over a regular file")
	}
}

func TestAllowedPeers(t *testing.T) {
	// Only 10.0.0.0/8 is allowed, so loopback clients are refused.
	addr := start(t, Options{Protocol: "http", Listen: ListenConfig{AllowedPeers: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}}, http.HandlerFunc(hello))
	c := &http.Client{Timeout: 5 * time.Second}
	if _, err := c.Get("http://" + addr + "/"); err == nil {
		t.Error("refused peer got an answer")
	}
	addr2 := start(t, Options{Protocol: "http", Listen: ListenConfig{AllowedPeers: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}, http.HandlerFunc(hello))
	resp, err := c.Get("http://" + addr2 + "/")
	if err != nil {
		t.Fatalf("allowed peer refused: %v", err)
	}
	resp.Body.Close()
}

func TestParsePeers(t *testing.T) {
	ps, err := ParsePeers([]string{"127.0.0.1", "10.0.0.0/8", "::1"})
	if err != nil || len(ps) != 3 || ps[0].Bits() != 32 || ps[2].Bits() != 128 {
		t.Errorf("ParsePeers = %v, %v", ps, err)
	}
	if _, err := ParsePeers([]string{"localhost"}); err == nil {
		t.Error("a host name was accepted")
	}
}

func TestLimitQueuesThenRefuses(t *testing.T) {
	release := make(chan struct{})
	var running atomic.Int32
	h := Limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		running.Add(1)
		<-release
	}), Options{MaxConcurrency: 1, MaxQueue: 1, QueueTimeout: 10 * time.Second})
	var wg sync.WaitGroup
	codes := make(chan int, 3)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			codes <- w.Code
		}()
	}
	// Wait until one runs and one waits in the queue.
	deadline := time.Now().Add(5 * time.Second)
	for running.Load() != 1 || len(h.(*limiter).queue) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("requests did not settle")
		}
		time.Sleep(time.Millisecond)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("third request: %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("queued request got %d", c)
		}
	}
}

func TestLimitQueueTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	h := Limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }), Options{Concurrency: "sync", MaxQueue: 4, QueueTimeout: 50 * time.Millisecond})
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	deadline := time.Now().Add(5 * time.Second)
	for len(h.(*limiter).slots) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("first request never ran")
		}
		time.Sleep(time.Millisecond)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 503 {
		t.Errorf("sync model let a second request run: %d", w.Code)
	}
}

func TestSwap(t *testing.T) {
	s := &Swap{}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 503 {
		t.Errorf("empty swap: %d", w.Code)
	}
	s.Store(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "one") }))
	w = httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Body.String() != "one" {
		t.Errorf("got %q", w.Body)
	}
}

func TestAutoProtocolServesHTTP(t *testing.T) {
	addr := start(t, Options{Protocol: "auto"}, http.HandlerFunc(hello))
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello HTTP/1.1" {
		t.Errorf("auto: %q", b)
	}
	// Garbage is closed, not served, and does not stop the listener.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte{0xff, 0xff, 0xff, 0xff})
	c.Close()
	resp, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestTLSAndHTTP2(t *testing.T) {
	cert := httptest.NewUnstartedServer(nil)
	cert.StartTLS() // borrow httptest's self-signed certificate
	tlsCfg := cert.TLS
	pool := cert.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	cert.Close()
	addr := start(t, Options{Protocol: "http", TLSConfig: &tls.Config{Certificates: tlsCfg.Certificates}}, http.HandlerFunc(hello))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "example.com"}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello HTTP/2.0" {
		t.Errorf("over TLS: %q, want HTTP/2", b)
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	started := make(chan struct{})
	finish := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-finish
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	s := &Server{Options: Options{Protocol: "http", GracefulTimeout: 10 * time.Second}, Logger: quiet(), Ready: func(a net.Addr) { addrc <- a.String() }}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, h) }()
	addr := <-addrc
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			body <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body <- string(b)
	}()
	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned with a request in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(finish)
	if got := <-body; got != "done" {
		t.Errorf("in-flight request got %q", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestConsole(t *testing.T) {
	var out bytes.Buffer
	c := &Console{URL: "/x?y=1", Header: http.Header{"X-A": {"b"}}, Body: []byte("k=v"), Out: &out}
	code, err := c.Do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-A")+" "+string(b))
	}))
	if err != nil || code != 200 {
		t.Fatalf("Do = %d, %v", code, err)
	}
	want := "HTTP/1.1 200 OK\r\nContent-Length: 17\r\nContent-Type: text/plain\r\n\r\nPOST /x?y=1 b k=v"
	if out.String() != want {
		t.Errorf("console output\n%q\nwant\n%q", out.String(), want)
	}
	if !strings.HasPrefix(out.String(), "HTTP/1.1 200 OK\r\n") {
		t.Error("no status line")
	}
}

func TestHTTPLogsWrongProtocol(t *testing.T) {
	var logs logbuf.Buffer
	o := Options{Protocol: "http"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	s := &Server{Options: o, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Ready: func(a net.Addr) { addrc <- a.String() }}
	go s.Run(ctx, http.HandlerFunc(hello))
	addr := <-addrc
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("70:CONTENT_LENGTH\x000\x00SCGI\x001\x00,"))
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "received an SCGI request on an HTTP socket") {
		if time.Now().After(deadline) {
			t.Fatalf("log:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type readFromConn struct {
	net.Conn
	calls int
}

func (c *readFromConn) ReadFrom(r io.Reader) (int64, error) { c.calls++; return io.Copy(io.Discard, r) }

// TestWrappersKeepSendfile: the connection wrappers must pass ReadFrom
// through, or net/http copies files through user space instead of
// sendfile (seen in the static-large benchmark).
func TestWrappersKeepSendfile(t *testing.T) {
	for name, wrap := range map[string]func(net.Conn) net.Conn{
		"sniffed": func(c net.Conn) net.Conn { return &prefixConn{Conn: c} },
		"head":    func(c net.Conn) net.Conn { return &headConn{Conn: c} },
	} {
		inner := &readFromConn{}
		rf, ok := wrap(inner).(io.ReaderFrom)
		if !ok {
			t.Errorf("%s: wrapper hides io.ReaderFrom", name)
			continue
		}
		rf.ReadFrom(strings.NewReader("file contents"))
		if inner.calls != 1 {
			t.Errorf("%s: ReadFrom not passed to the connection", name)
		}
	}
}
