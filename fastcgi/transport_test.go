package fastcgi

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/wiretest"
)

func TestScriptSplit(t *testing.T) {
	s := Script{DocumentRoot: "/srv", Index: "index.php", SplitPath: []string{".php"}}
	tests := []struct {
		path, script, info string
	}{
		{"/", "/index.php", ""},
		{"/a.php", "/a.php", ""},
		{"/a.php/b/c", "/a.php", "/b/c"},
		{"/A.PHP/x", "/A.PHP", "/x"},
		{"/a.php.txt", "/a.php.txt", ""},
		{"/a.phpx/b.php/c", "/a.phpx/b.php", "/c"},
		{"/dir/", "/dir/index.php", ""},
		{"/../../etc/passwd.php/x", "/etc/passwd.php", "/x"},
		{"/static/logo.png", "/static/logo.png", ""},
	}
	for _, tc := range tests {
		script, info, err := s.Split(tc.path)
		if err != nil || script != tc.script || info != tc.info {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q", tc.path, script, info, err, tc.script, tc.info)
		}
	}
}

// TestCVE_2019_11043 pins the guards against the PHP-FPM remote code
// execution of CVE-2019-11043 and its relatives: a newline (or NUL) in the
// path must never reach the split, and the split must cut at the byte
// offsets of the path itself, which Unicode case folding would shift.
func TestCVE_2019_11043(t *testing.T) {
	s := Script{DocumentRoot: "/srv", SplitPath: []string{".php"}}
	for _, p := range []string{"/index.php/PHP_VALUE\nsession.auto_start=1", "/index.php\n/x", "/a.php\x00.txt", "/a\r.php"} {
		if _, _, err := s.Split(p); !errors.Is(err, ErrBadPath) || !errors.Is(err, cgivars.ErrInvalidByte) {
			t.Errorf("Split(%q) err = %v, want ErrBadPath", p, err)
		}
	}
	// U+023A lowers to a longer UTF-8 sequence: an index found in
	// strings.ToLower(path) would cut the original path at the wrong place.
	p := "/\u023a\u023a\u023a.php/x"
	script, info, err := s.Split(p)
	if err != nil || script != "/\u023a\u023a\u023a.php" || info != "/x" {
		t.Errorf("Split(%q) = %q, %q, %v", p, script, info, err)
	}
	// Through the Transport, such a request is refused before any
	// connection is made.
	tr := &Transport{Addr: "127.0.0.1:1", Script: s}
	req, _ := http.NewRequest("GET", "http://x/index.php", nil)
	req.URL.Path = "/index.php/PHP_VALUE\nsession.auto_start=1"
	if _, err := tr.RoundTrip(req); !errors.Is(err, cgivars.ErrInvalidByte) {
		t.Errorf("RoundTrip err = %v, want ErrInvalidByte", err)
	}
}

func TestScriptVars(t *testing.T) {
	var got []cgivars.Pair
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = cgivars.Vars(r.Context())
	}))
	tr := &Transport{Addr: addr, Logger: quiet(), Script: Script{DocumentRoot: "/srv/www", Index: "index.php", SplitPath: []string{".php"}},
		Vars: cgivars.Options{Extra: []cgivars.Pair{{Name: "APP_ENV", Value: "test"}}}}
	defer tr.Close()
	do(t, tr, "GET", "http://example.com/blog/post.php/2024/hello?x=1", "")
	want := map[string]string{
		"SCRIPT_FILENAME": "/srv/www/blog/post.php",
		"SCRIPT_NAME":     "/blog/post.php",
		"PATH_INFO":       "/2024/hello",
		"PATH_TRANSLATED": "/srv/www/2024/hello",
		"DOCUMENT_ROOT":   "/srv/www",
		"QUERY_STRING":    "x=1",
		"APP_ENV":         "test",
	}
	for k, v := range want {
		if g, _ := cgivars.Get(got, k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
}

// countListener counts accepted connections and the most open at once.
type countListener struct {
	net.Listener
	open, most, total atomic.Int64
}

func (l *countListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.total.Add(1)
	n := l.open.Add(1)
	for m := l.most.Load(); n > m && !l.most.CompareAndSwap(m, n); m = l.most.Load() {
	}
	return &countConn{Conn: c, l: l}, nil
}

type countConn struct {
	net.Conn
	l    *countListener
	once sync.Once
}

func (c *countConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// TestTransportPoolBound pins the PHP-FPM rule: never more connections
// than MaxConns, requests beyond them queue instead of dialing.
func TestTransportPoolBound(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countListener{Listener: raw}
	release := make(chan struct{})
	var inHandler atomic.Int64
	s := &Server{Logger: quiet(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler.Add(1)
		<-release
		io.WriteString(w, "ok")
	})}
	go s.Serve(l)
	defer s.Close()
	tr := &Transport{Addr: raw.Addr().String(), MaxConns: 2, Logger: quiet()}
	defer tr.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", "http://x/", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "ok" {
				errs <- errors.New("body " + string(b))
			}
		}()
	}
	for inHandler.Load() < 2 {
		// Two requests reach the backend; the others must wait in the
		// Transport's queue.
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		waitABit()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m := l.most.Load(); m > 2 {
		t.Errorf("%d connections open at once, want at most 2", m)
	}
	if n := l.total.Load(); n > 2 {
		t.Errorf("%d connections made for 6 requests, want 2 reused", n)
	}
}

func TestTransportStderrToLog(t *testing.T) {
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		readRequest(c)
		out := AppendRecord(nil, TypeStderr, 1, []byte("PHP Warning: oops\n"))
		out = AppendRecord(out, TypeStdout, 1, []byte("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nFile not found."))
		out = AppendRecord(out, TypeStdout, 1, nil)
		out = AppendEndRequest(out, 1, EndRequest{})
		c.Write(out)
	})
	var logs logbuf.Buffer
	tr := &Transport{Addr: b.Addr(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	defer tr.Close()
	code, body, _ := do(t, tr, "GET", "http://x/missing.php", "")
	if code != 404 || body != "File not found." || b.Accepted() != 1 {
		t.Errorf("got %d %q over %d connections, want 1", code, body, b.Accepted())
	}
	if s := logs.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "PHP Warning: oops") {
		t.Errorf("log = %q", s)
	}
}

func TestTransportIncompleteReply(t *testing.T) {
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		readRequest(c)
		c.Write(AppendRecord(nil, TypeStdout, 1, []byte("Status: 200 OK\r\n\r\npart")))
	})
	tr := &Transport{Addr: b.Addr(), Logger: quiet()}
	defer tr.Close()
	req, _ := http.NewRequest("GET", "http://x/", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrIncompleteReply) {
		t.Errorf("body err = %v, want ErrIncompleteReply", err)
	}
}

func TestTransportRefusedIsDialError(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	tr := &Transport{Addr: addr}
	req, _ := http.NewRequest("GET", "http://x/", nil)
	_, err := tr.RoundTrip(req)
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" {
		t.Errorf("err = %v, want a dial *net.OpError", err)
	}
}

// readRequest reads records up to the empty STDIN.
func readRequest(c net.Conn) {
	rr := NewReader(bufio.NewReader(c))
	for rr.Next() == nil {
		if rr.Header.Type == TypeStdin && len(rr.Content) == 0 {
			return
		}
	}
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestTransportBackendIgnoresKeepConn: a backend that closes after every
// request although asked to keep the connection (uWSGI does) must not cost
// a failed request, with or without a body.
func TestTransportBackendIgnoresKeepConn(t *testing.T) {
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		readRequest(c)
		out := AppendRecord(nil, TypeStdout, 1, []byte("Status: 200 OK\r\n\r\nok"))
		out = AppendRecord(out, TypeStdout, 1, nil)
		c.Write(AppendEndRequest(out, 1, EndRequest{}))
	})
	tr := &Transport{Addr: b.Addr(), Logger: quiet()}
	defer tr.Close()
	for i := 0; i < 5; i++ {
		if code, body, _ := do(t, tr, "POST", "http://x/", "body"); code != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	if tr.keep.Load() != keepIgnored {
		t.Errorf("keep state %d, want keepIgnored", tr.keep.Load())
	}
}

// TestTransportReuseAfterFramedBody: a body that ends at its
// Content-Length (with bytes after it) and a HEAD reply's body (not read
// at all) still give their connection back to the pool: the Transport
// reads on to END_REQUEST.
func TestTransportReuseAfterFramedBody(t *testing.T) {
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		for {
			readRequest(c)
			reply := AppendRecord(nil, TypeStdout, 1, []byte("Content-Length: 2\r\n\r\noktrailing"))
			reply = AppendRecord(reply, TypeStdout, 1, nil)
			reply = AppendRecord(reply, TypeEndRequest, 1, []byte{0, 0, 0, 0, StatusRequestComplete, 0, 0, 0})
			if _, err := c.Write(reply); err != nil {
				return
			}
		}
	})
	tr := &Transport{Addr: b.Addr(), MaxConns: 1, Logger: quiet()}
	defer tr.Close()
	for i, method := range []string{"GET", "HEAD", "GET", "GET"} {
		req, _ := http.NewRequest(method, "http://x/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "ok"
		if method == "HEAD" {
			want = ""
		}
		if err != nil || string(b) != want || resp.ContentLength != 2 {
			t.Errorf("request %d (%s): body %q, length %d, err %v; want %q, 2", i, method, b, resp.ContentLength, err, want)
		}
	}
	if n := b.Accepted(); n != 1 {
		t.Errorf("%d connections for 4 requests, want 1 reused", n)
	}
}

// TestTransportBrokenBodyIssue12: a request body that ends before its
// Content-Length closes the connection, so a backend waiting for the rest
// of STDIN does not hold the request forever.
func TestTransportBrokenBodyIssue12(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		readRequest(c) // waits for the empty STDIN
		<-hold
	})
	tr := &Transport{Addr: b.Addr(), Logger: quiet()}
	defer tr.Close()
	req, _ := http.NewRequest("POST", "http://x/", io.NopCloser(io.MultiReader(strings.NewReader("hello"), iotest.ErrReader(io.ErrUnexpectedEOF))))
	req.ContentLength = 10
	done := make(chan error, 1)
	go func() {
		res, err := tr.RoundTrip(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, gateway.ErrRequestBody) {
			t.Errorf("err = %v, want gateway.ErrRequestBody", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RoundTrip still waiting for a reply 5s after the body failed")
	}
}

// A kept connection the backend closed while it was idle (its idle
// timeout, a recycled PHP worker) is found closed before a request is
// written on it: a POST, which cannot be sent twice, gets a fresh
// connection instead of a 502.
func TestTransportIdleCloseBeforePost(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countListener{Listener: raw}
	s := &Server{Logger: quiet(), IdleTimeout: 30 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+string(b))
	})}
	go s.Serve(l)
	defer s.Close()
	tr := &Transport{Addr: raw.Addr().String(), Logger: quiet()}
	defer tr.Close()
	send := func(method, body string) string {
		t.Helper()
		req, _ := http.NewRequest(method, "http://x/", strings.NewReader(body))
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	// Two requests on one connection: the backend is known to keep it.
	send("GET", "")
	send("GET", "")
	time.Sleep(200 * time.Millisecond) // the backend closes it
	if got := send("POST", "data"); got != "POST data" {
		t.Errorf("POST after the idle close: %q", got)
	}
	if n := l.total.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (one kept, one after its close)", n)
	}
}
