package uwsgi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/wiretest"
)

// countingListener counts the connections accepted and those still open.
type countingListener struct {
	net.Listener
	accepted, open atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	l.open.Add(1)
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// keepServer serves h over uwsgi on a counting listener until the test
// ends.
func keepServer(t *testing.T, h http.Handler) (*countingListener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	s := &Server{Handler: h, Logger: slog.New(slog.DiscardHandler)}
	serveUntilEnd(t, s, cl)
	return cl, l.Addr().String()
}

// serveUntilEnd serves l with s until the test ends.
func serveUntilEnd(t *testing.T, s *Server, l net.Listener) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
}

// keepTransport is a keep-alive Transport closed when the test ends.
func keepTransport(t *testing.T, addr string) *Transport {
	tr := &Transport{Addr: addr, KeepAlive: true, MaxIdleConns: 4}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// do sends one request through rt and returns the status and body.
func do(t *testing.T, rt http.RoundTripper, method, url, body string) (int, http.Header, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r)
	res, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, url, err)
	}
	return res.StatusCode, res.Header, string(b)
}

func TestKeepAliveReusesConnection(t *testing.T) {
	var sawVar atomic.Bool
	l, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := cgivars.Get(cgivars.Vars(r.Context()), KeepAliveVar); ok {
			sawVar.Store(true)
		}
		for k := range r.Header {
			if strings.Contains(strings.ToUpper(k), "KEEPALIVE") {
				sawVar.Store(true)
			}
		}
		io.WriteString(w, "hello "+r.URL.Path)
	}))
	tr := keepTransport(t, addr)
	const n = 20
	for i := range n {
		method, body := "GET", ""
		if i%2 == 1 {
			method, body = "POST", "some body"
		}
		code, h, got := do(t, tr, method, "http://x/p", body)
		if code != 200 || got != "hello /p" {
			t.Fatalf("request %d: %d %q", i, code, got)
		}
		if h.Get("Connection") != "" {
			t.Errorf("Connection header passed on: %q", h.Get("Connection"))
		}
	}
	if a := l.accepted.Load(); a != 1 {
		t.Errorf("%d requests took %d connections, want 1", n, a)
	}
	if sawVar.Load() {
		t.Errorf("the handler saw %s", KeepAliveVar)
	}
}

func TestKeepAliveHeadNoContentNotModified(t *testing.T) {
	l, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		case "/empty":
		default:
			io.WriteString(w, "body of a HEAD")
		}
	}))
	tr := keepTransport(t, addr)
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"HEAD", "/", 200, ""},
		{"GET", "/204", 204, ""},
		{"GET", "/304", 304, ""},
		{"GET", "/empty", 200, ""},
		{"HEAD", "/", 200, ""},
		{"GET", "/", 200, "body of a HEAD"},
	} {
		code, _, body := do(t, tr, tc.method, "http://x"+tc.path, "")
		if code != tc.code || body != tc.body {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, code, body, tc.code, tc.body)
		}
	}
	if a := l.accepted.Load(); a != 1 {
		t.Errorf("6 requests took %d connections, want 1", a)
	}
}

func TestKeepAliveChunked(t *testing.T) {
	big := strings.Repeat("0123456789", 1000) // past the Writer's buffer: no Content-Length
	l, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flush":
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
			io.WriteString(w, "")
			io.WriteString(w, "b")
		default:
			io.WriteString(w, big)
		}
	}))
	tr := keepTransport(t, addr)
	for i := range 3 {
		req, _ := http.NewRequest("GET", "http://x/", nil)
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != big || res.ContentLength != -1 {
			t.Fatalf("request %d: %d bytes, ContentLength %d", i, len(b), res.ContentLength)
		}
		if _, _, got := do(t, tr, "GET", "http://x/flush", ""); got != "ab" {
			t.Fatalf("flushed reply %q", got)
		}
	}
	if a := l.accepted.Load(); a != 1 {
		t.Errorf("6 chunked replies took %d connections, want 1", a)
	}
}

func TestKeepAliveUnreadBody(t *testing.T) {
	l, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "not read")
	}))
	tr := keepTransport(t, addr)
	small := strings.Repeat("x", 10<<10)
	for range 3 {
		if code, _, got := do(t, tr, "POST", "http://x/", small); code != 200 || got != "not read" {
			t.Fatalf("small body: %d %q", code, got)
		}
	}
	if a := l.accepted.Load(); a != 1 {
		t.Errorf("an unread small body: %d connections for 3 requests, want 1", a)
	}
	large := strings.Repeat("x", 1<<20) // more than gateway.MaxKeepDrain
	for range 2 {
		if code, _, got := do(t, tr, "POST", "http://x/", large); code != 200 || got != "not read" {
			t.Fatalf("large body: %d %q", code, got)
		}
	}
	if a := l.accepted.Load(); a != 2 {
		t.Errorf("an unread large body: %d connections in all, want 2", a)
	}
	if code, _, got := do(t, tr, "GET", "http://x/", ""); code != 200 || got != "not read" {
		t.Fatalf("after: %d %q", code, got)
	}
	if a := l.accepted.Load(); a != 3 {
		t.Errorf("%d connections in all, want 3: a reply that left a large body unread is not kept", a)
	}
}

func TestKeepAliveContentLengthMismatch(t *testing.T) {
	l, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/short":
			w.Header().Set("Content-Length", "10")
			w.Write(bytes.Repeat([]byte("s"), 5000)) // past the buffer: the head goes first
		case "/long":
			w.Header().Set("Content-Length", "3")
			io.WriteString(w, "abcdef")
		default:
			io.WriteString(w, "ok")
		}
	}))
	tr := keepTransport(t, addr)
	req, _ := http.NewRequest("GET", "http://x/long", nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "abc" {
		t.Errorf("/long body %q, want the declared 3 bytes", b)
	}
	if _, _, got := do(t, tr, "GET", "http://x/", ""); got != "ok" {
		t.Errorf("after /long: %q", got)
	}
	if a := l.accepted.Load(); a != 2 {
		t.Errorf("%d connections, want 2: a reply past its Content-Length closes", a)
	}
}

// rawKeepServer accepts connections and answers each request on them with
// reply; closeAfter says whether to close after the nth reply.
func rawKeepServer(t *testing.T, reply string, closeAfter func(n int) bool) *wiretest.Backend {
	t.Helper()
	var served atomic.Int32
	return wiretest.Serve(t, "tcp", func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			_, vars, err := ReadPacket(br, 0)
			if err != nil {
				return
			}
			var clen int64
			for _, v := range vars {
				if v.Name == "CONTENT_LENGTH" {
					clen, _ = strconv.ParseInt(v.Value, 10, 64)
				}
			}
			io.CopyN(io.Discard, br, clen)
			io.WriteString(c, reply)
			if closeAfter(int(served.Add(1))) {
				return
			}
		}
	})
}

func TestKeepAliveNeedsTheAck(t *testing.T) {
	// A backend that knows nothing of the extension (uWSGI; or nginx-like,
	// framing its reply but not offering keep-alive) and keeps the
	// connection open: the Transport closes it after each reply.
	for _, reply := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"Status: 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", // CGI form
		"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nok",                     // not framed
	} {
		b := rawKeepServer(t, reply, func(int) bool { return false })
		tr := keepTransport(t, b.Addr())
		for range 3 {
			req, _ := http.NewRequest("GET", "http://x/", nil)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			res, err := tr.RoundTrip(req.WithContext(ctx))
			if err != nil {
				t.Fatalf("%q: %v", reply, err)
			}
			if res.ContentLength == 2 {
				b, _ := io.ReadAll(res.Body)
				if string(b) != "ok" {
					t.Fatalf("%q: body %q", reply, b)
				}
			}
			res.Body.Close()
			cancel()
		}
		if a := b.Accepted(); a != 3 {
			t.Errorf("%q: 3 requests took %d connections, want 3", reply, a)
		}
	}
}

func TestKeepAliveRetriesAClosedConnection(t *testing.T) {
	// The backend offers keep-alive but closes after every other reply,
	// as a worker stopping between requests does.
	b := rawKeepServer(t, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		func(n int) bool { return n%2 == 0 })
	tr := keepTransport(t, b.Addr())
	for i := range 6 {
		if code, _, got := do(t, tr, "GET", "http://x/", ""); code != 200 || got != "ok" {
			t.Fatalf("request %d: %d %q", i, code, got)
		}
		time.Sleep(10 * time.Millisecond) // let the close arrive
	}
	if a := b.Accepted(); a != 3 {
		t.Errorf("%d connections, want 3", a)
	}
	// A request with a body is not sent again: the backend may have read
	// it. This one reads the second request of each connection and
	// closes without a reply, as a worker dying under it would; the
	// close comes after the write, so no check before it can see it.
	var conns atomic.Int32
	dying := wiretest.Serve(t, "tcp", func(c net.Conn) {
		conns.Add(1)
		br := bufio.NewReader(c)
		for n := 1; ; n++ {
			_, vars, err := ReadPacket(br, 0)
			if err != nil {
				return
			}
			for _, v := range vars {
				if v.Name == "CONTENT_LENGTH" {
					clen, _ := strconv.ParseInt(v.Value, 10, 64)
					io.CopyN(io.Discard, br, clen)
				}
			}
			if n == 2 {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	tr = keepTransport(t, dying.Addr())
	do(t, tr, "GET", "http://x/", "") // the connection's first: kept
	req, _ := http.NewRequest("POST", "http://x/", strings.NewReader("body"))
	var empty *EmptyReplyError
	if _, err := tr.RoundTrip(req); !errors.As(err, &empty) {
		t.Errorf("POST the backend read and dropped: %v, want an EmptyReplyError", err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("the POST was sent again (%d connections)", n)
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

func TestKeepAliveCloseClosesIdle(t *testing.T) {
	l, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "ok")
	}))
	tr := &Transport{Addr: addr, KeepAlive: true, MaxIdleConns: 3}
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do(t, tr, "GET", "http://x/", "")
		}()
	}
	wg.Wait()
	if !waitFor(func() bool { return l.open.Load() == 3 }) {
		t.Errorf("%d connections open after 5 concurrent requests, want MaxIdleConns (3)", l.open.Load())
	}
	tr.Close()
	if o := l.open.Load(); !waitFor(func() bool { return l.open.Load() == 0 }) {
		t.Errorf("%d connections still open after Close", o)
	}
}

// rawExchange writes packets (and bodies) on one connection to addr and
// returns what the server wrote until it closed or went quiet.
func rawExchange(t *testing.T, addr string, wire []byte) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(wire)
	c.SetReadDeadline(time.Now().Add(time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

func kaPacket(t *testing.T, keep bool, path string) []byte {
	vars := []Var{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "PATH_INFO", Value: path}, {Name: "SERVER_PROTOCOL", Value: "HTTP/1.1"}, {Name: "CONTENT_LENGTH", Value: "0"}}
	if keep {
		vars = append(vars, Var{Name: KeepAliveVar, Value: "1"})
	}
	b, err := AppendPacket(nil, 0, 0, vars)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// What a web server (nginx uwsgi_pass, which never sends KeepAliveVar)
// gets is unchanged: no Connection header, no chunks, a close after the
// reply, a second packet on the connection unanswered.
func TestServerWithoutKeepAliveVar(t *testing.T) {
	big := strings.Repeat("z", 10000)
	_, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, big)
	}))
	got := rawExchange(t, addr, append(kaPacket(t, false, "/a"), kaPacket(t, false, "/b")...))
	if strings.Contains(got, "Connection") || strings.Contains(got, "chunked") {
		t.Errorf("reply to a web server mentions keep-alive or chunks:\n%.300s", got)
	}
	if n := strings.Count(got, "HTTP/1.1 200"); n != 1 || !strings.HasSuffix(got, "\r\n\r\n"+big) {
		t.Errorf("%d replies, want one, closed after its body:\n%.300s", n, got)
	}
	// With the variable: each reply says keep-alive and is framed; the
	// second request is answered on the same connection.
	got = rawExchange(t, addr, append(kaPacket(t, true, "/a"), kaPacket(t, true, "/b")...))
	if n := strings.Count(got, "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n"); n != 2 {
		t.Errorf("%d kept, chunked replies, want 2:\n%.300s", n, got)
	}
	if !strings.HasSuffix(got, "0\r\n\r\n") {
		t.Errorf("reply does not end with the last chunk: %q", got[max(0, len(got)-20):])
	}
}

// BenchmarkTransport is a GET through the Transport to a Server, a
// connection per request or kept.
func BenchmarkTransport(b *testing.B) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello, World!\n")
	})
	for _, keep := range []bool{false, true} {
		name := "close"
		if keep {
			name = "keepalive"
		}
		b.Run(name, func(b *testing.B) {
			_, addr := startServer(b, hello)
			tr := &Transport{Addr: addr, KeepAlive: keep}
			defer tr.Close()
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("GET", "http://x/hello", nil)
				res, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	}
}

// recordingListener keeps the connections it accepted, so a test can
// cut them all as a worker that dies does.
type recordingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *recordingListener) cutAll() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	n := len(l.conns)
	l.conns = nil
	return n
}

// When a backend's kept connections all die at once (a worker killed and
// restarted on the same socket), a GET that finds one dead is sent again
// on a new connection, not on another dead idle one, and the others are
// dropped.
func TestKeepAliveRetryDialsNew(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &recordingListener{Listener: ln}
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		io.WriteString(w, "ok")
	}), Logger: slog.New(slog.DiscardHandler)}
	serveUntilEnd(t, s, l)
	tr := keepTransport(t, ln.Addr().String())
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { do(t, tr, "GET", "http://x/", "") })
	}
	wg.Wait()
	if n := l.cutAll(); n != 3 {
		t.Fatalf("3 concurrent requests took %d connections, want 3", n)
	}
	time.Sleep(20 * time.Millisecond) // let the closes arrive
	if code, _, got := do(t, tr, "GET", "http://x/", ""); code != 200 || got != "ok" {
		t.Fatalf("GET after the backend's connections died: %d %q", code, got)
	}
	l.mu.Lock()
	n := len(l.conns)
	l.mu.Unlock()
	if n != 1 {
		t.Errorf("the retried GET took %d new connections, want 1", n)
	}
}

// A kept connection goes back to the pool when its reply has been read
// to the end, before the body is closed (a proxy closes it only after
// writing the reply to its client), and the Close that follows is free.
func TestKeepAliveConnectionBackAtEnd(t *testing.T) {
	l, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	tr := keepTransport(t, addr)
	req, _ := http.NewRequest("GET", "http://x/", nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(res.Body); err != nil || string(b) != "hello" {
		t.Fatalf("body %q, %v", b, err)
	}
	// The first body is still open: the second request must find its
	// connection idle.
	if code, _, got := do(t, tr, "GET", "http://x/", ""); code != 200 || got != "hello" {
		t.Fatalf("second request: %d %q", code, got)
	}
	if a := l.accepted.Load(); a != 1 {
		t.Errorf("two requests took %d connections, want 1", a)
	}
	start := time.Now()
	res.Body.Close()
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Close after the end of the body took %v", d)
	}
}

// A kept connection the server closed while it idled is found closed
// before the next request is written on it: a POST, which is not sent
// twice, gets a new connection rather than a 502.
func TestKeepAliveIdleClosedBeforePost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	s := &Server{IdleTimeout: 30 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			io.WriteString(w, r.Method+" "+string(b))
		})}
	serveUntilEnd(t, s, cl)
	tr := keepTransport(t, l.Addr().String())
	if _, _, got := do(t, tr, "GET", "http://x/", ""); got != "GET " {
		t.Fatalf("GET: %q", got)
	}
	time.Sleep(200 * time.Millisecond) // the server closes the idle connection
	if code, _, got := do(t, tr, "POST", "http://x/", "data"); code != 200 || got != "POST data" {
		t.Errorf("POST after the idle close: %d %q", code, got)
	}
	if a := cl.accepted.Load(); a != 2 {
		t.Errorf("%d connections, want 2", a)
	}
}
