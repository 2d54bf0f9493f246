package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/registry"
)

// backendOf returns a Backend for an httptest server.
func backendOf(t *testing.T, s *httptest.Server) Backend {
	t.Helper()
	b, err := ParseBackend(strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refusedBackend returns an address nothing listens on.
func refusedBackend(t *testing.T) Backend {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	b, _ := ParseBackend(addr)
	return b
}

func named(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, name)
	}))
}

func newProxy(t *testing.T, o Options) *Proxy {
	t.Helper()
	if o.NewTransport == nil {
		o.NewTransport = func(b Backend) http.RoundTripper { return NewHTTPTransport(b, o) }
	}
	if o.Rewrite == nil && !o.HTTP {
		o.Rewrite = HTTPRewrite
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// newDirectProxy is newProxy for a gateway protocol: RequireLength and no
// Rewrite, which serve without httputil.ReverseProxy (serveDirect).
func newDirectProxy(t *testing.T, o Options) *Proxy {
	t.Helper()
	o.RequireLength = true
	if o.NewTransport == nil {
		o.NewTransport = func(b Backend) http.RoundTripper { return NewHTTPTransport(b, o) }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if !p.opts.direct() {
		t.Fatal("the proxy does not serve directly")
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// newHTTPProxy is newProxy as http_proxy builds it (Options.HTTP): its
// plain requests are served without httputil.ReverseProxy, over
// NewHTTPTransport's own client.
func newHTTPProxy(t *testing.T, o Options) *Proxy {
	t.Helper()
	o.HTTP, o.Rewrite = true, nil
	return newProxy(t, o)
}

// bothPaths runs test on the proxy through httputil.ReverseProxy (with
// HTTPRewrite), as the gateway proxies build it (serveDirect), and as
// http_proxy builds it (Options.HTTP: serveDirect over gopaste's HTTP/1.1
// client), over the same HTTP backends: balancing, retries, health,
// timeouts, streaming and logging are the same on all three.
func bothPaths(t *testing.T, test func(*testing.T, func(*testing.T, Options) *Proxy)) {
	t.Run("reverseproxy", func(t *testing.T) { test(t, newProxy) })
	t.Run("direct", func(t *testing.T) { test(t, newDirectProxy) })
	t.Run("http", func(t *testing.T) { test(t, newHTTPProxy) })
}

func get(t *testing.T, h http.Handler, method, target string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, body))
	return rec
}

func TestRoundRobin(t *testing.T) { bothPaths(t, testRoundRobin) }

func testRoundRobin(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	a, b := named("a"), named("b")
	defer a.Close()
	defer b.Close()
	p := newProxy(t, Options{Backends: []Backend{backendOf(t, a), backendOf(t, b)}})
	var got []string
	for range 4 {
		got = append(got, get(t, p, "GET", "/", nil).Body.String())
	}
	if strings.Join(got, "") != "abab" {
		t.Errorf("round robin order = %v, want a b a b", got)
	}
}

func TestLeastConn(t *testing.T) { bothPaths(t, testLeastConn) }

func testLeastConn(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		fmt.Fprint(w, "slow")
	}))
	defer slow.Close()
	fast := named("fast")
	defer fast.Close()
	p := newProxy(t, Options{Balance: "least_conn", Backends: []Backend{backendOf(t, slow), backendOf(t, fast)}})
	done := make(chan string)
	go func() { done <- get(t, p, "GET", "/", nil).Body.String() }()
	<-started
	for range 3 {
		if s := get(t, p, "GET", "/", nil).Body.String(); s != "fast" {
			t.Errorf("with slow busy, got %q, want fast", s)
		}
	}
	close(release)
	if s := <-done; s != "slow" {
		t.Errorf("first request = %q, want slow", s)
	}
}

func TestRetryIdempotentOnlyWhenNothingSent(t *testing.T) {
	bothPaths(t, testRetryIdempotentOnlyWhenNothingSent)
}

func testRetryIdempotentOnlyWhenNothingSent(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	good := named("good")
	defer good.Close()
	dead := refusedBackend(t)
	p := newProxy(t, Options{Retries: 1, Backends: []Backend{dead, backendOf(t, good)}})

	// Round robin starts at the dead backend: GET moves on to the good one.
	if rec := get(t, p, "GET", "/", nil); rec.Code != 200 || rec.Body.String() != "good" {
		t.Errorf("GET = %d %q, want 200 good after a retry", rec.Code, rec.Body)
	}

	// A refused POST reached nobody: it moves on too.
	p2 := newProxy(t, Options{Retries: 1, Backends: []Backend{refusedBackend(t), backendOf(t, good)}})
	if rec := get(t, p2, "POST", "/", strings.NewReader("x")); rec.Code != 200 || rec.Body.String() != "good" {
		t.Errorf("refused POST = %d %q, want 200 good after a retry", rec.Code, rec.Body)
	}

	// A POST whose connection broke after it was sent is not idempotent:
	// no retry, a 502 that does not echo the reason. A GET is sent again.
	p3 := newProxy(t, Options{Retries: 1, Backends: []Backend{dropper(t), backendOf(t, good)}})
	rec := get(t, p3, "POST", "/", strings.NewReader("x"))
	if rec.Code != http.StatusBadGateway {
		t.Errorf("POST = %d, want 502", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "EOF") || strings.Contains(rec.Body.String(), "127.0.0.1") {
		t.Errorf("502 body echoes the reason: %q", rec.Body)
	}
	p4 := newProxy(t, Options{Retries: 1, Backends: []Backend{dropper(t), backendOf(t, good)}})
	if rec := get(t, p4, "GET", "/", nil); rec.Code != 200 || rec.Body.String() != "good" {
		t.Errorf("GET on a dropped connection = %d %q, want 200 good after a retry", rec.Code, rec.Body)
	}
}

// dropper returns a backend that reads a request and closes the
// connection without a reply, and keeps listening.
func dropper(t *testing.T) Backend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				c.SetReadDeadline(time.Now().Add(time.Second))
				c.Read(make([]byte, 4096))
				c.Close()
			}()
		}
	}()
	b, _ := ParseBackend(l.Addr().String())
	return b
}

func TestPassiveEjection(t *testing.T) { bothPaths(t, testPassiveEjection) }

func testPassiveEjection(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	good := named("good")
	defer good.Close()
	dead := refusedBackend(t)
	p := newProxy(t, Options{Backends: []Backend{dead, backendOf(t, good)}, FailTimeout: time.Hour})
	if rec := get(t, p, "GET", "/", nil); rec.Code != http.StatusBadGateway {
		t.Fatalf("first GET = %d, want 502 from the dead backend", rec.Code)
	}
	for range 4 {
		if rec := get(t, p, "GET", "/", nil); rec.Code != 200 {
			t.Errorf("GET after ejection = %d, want 200", rec.Code)
		}
	}
}

func TestActiveHealthChecks(t *testing.T) { bothPaths(t, testActiveHealthChecks) }

func testActiveHealthChecks(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	var sick atomic.Bool
	sick.Store(true)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sick.Load() {
			http.Error(w, "sick", 500)
			return
		}
		fmt.Fprint(w, "flaky")
	}))
	defer flaky.Close()
	good := named("good")
	defer good.Close()
	// A check times out after the interval: one of 20ms marked the good
	// backend down too now and then on a busy machine, and with both
	// down the proxy tries either.
	p := newProxy(t, Options{Backends: []Backend{backendOf(t, flaky), backendOf(t, good)},
		HealthCheckInterval: 100 * time.Millisecond, HealthCheckPath: "/health"})

	waitFor(t, "flaky ejected", func() bool { return !p.backends[0].up(func() int64 { return time.Now().UnixNano() }, true) })
	for range 4 {
		if s := get(t, p, "GET", "/", nil).Body.String(); s != "good" {
			t.Errorf("while flaky is down got %q, want good", s)
		}
	}
	sick.Store(false)
	waitFor(t, "flaky back", func() bool { return p.backends[0].up(func() int64 { return time.Now().UnixNano() }, true) })
	seen := map[string]bool{}
	for range 4 {
		seen[get(t, p, "GET", "/", nil).Body.String()] = true
	}
	if !seen["flaky"] {
		t.Errorf("flaky never served after recovering: %v", seen)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lengthTransport stands in for a CGI-style protocol: it records the
// length it was given.
type lengthTransport struct {
	mu  sync.Mutex
	got []int64
}

func (lt *lengthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	n, _ := io.Copy(io.Discard, r.Body)
	lt.mu.Lock()
	lt.got = append(lt.got, r.ContentLength, n)
	lt.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// chunked is a body of unknown length.
func chunked(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }

func TestSpoolChunkedBody(t *testing.T) {
	lt := &lengthTransport{}
	p := newProxy(t, Options{Backends: []Backend{{Addr: "x"}}, RequireLength: true, MaxBodySpool: 10,
		NewTransport: func(Backend) http.RoundTripper { return lt }, Rewrite: func(*httputil.ProxyRequest) {}})
	req := httptest.NewRequest("POST", "/", chunked("0123456789"))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	if rec.Code != 200 || len(lt.got) != 2 || lt.got[0] != 10 || lt.got[1] != 10 {
		t.Errorf("spooled: status %d, backend saw (ContentLength, read) %v, want 200 and (10, 10)", rec.Code, lt.got)
	}

	req = httptest.NewRequest("POST", "/", chunked("0123456789X"))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("over max_body_spool: %d, want 413", rec.Code)
	}

	off := newProxy(t, Options{Backends: []Backend{{Addr: "x"}}, RequireLength: true,
		NewTransport: func(Backend) http.RoundTripper { return lt }, Rewrite: func(*httputil.ProxyRequest) {}})
	req = httptest.NewRequest("POST", "/", chunked("abc"))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	off.ServeHTTP(rec, req)
	if rec.Code != http.StatusLengthRequired {
		t.Errorf("spooling off: %d, want 411", rec.Code)
	}
}

func TestTimeouts504(t *testing.T) { bothPaths(t, testTimeouts504) }

func testTimeouts504(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	block := make(chan struct{})
	defer close(block)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	for _, o := range []Options{
		{Timeout: 50 * time.Millisecond},
		{ResponseHeaderTimeout: 50 * time.Millisecond},
	} {
		o.Backends = []Backend{backendOf(t, hang)}
		p := newProxy(t, o)
		rec := get(t, p, "GET", "/", nil)
		if rec.Code != http.StatusGatewayTimeout {
			t.Errorf("%+v: status %d, want 504", o.Timeout, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "timeout") && !strings.HasPrefix(rec.Body.String(), "504") {
			t.Errorf("504 body echoes the reason: %q", rec.Body)
		}
	}
}

func TestStreamsFlushes(t *testing.T) { bothPaths(t, testStreamsFlushes) }

func testStreamsFlushes(t *testing.T, newProxy func(*testing.T, Options) *Proxy) {
	second := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-second
		io.WriteString(w, "second\n")
	}))
	defer srv.Close()
	front := httptest.NewServer(newProxy(t, Options{Backends: []Backend{backendOf(t, srv)}}))
	defer front.Close()
	res, err := http.Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first chunk = %q, %v before the second was written", buf, err)
	}
	close(second)
	rest, _ := io.ReadAll(res.Body)
	if string(rest) != "second\n" {
		t.Errorf("rest = %q", rest)
	}
}

func TestHTTPProxyFactory(t *testing.T) {
	var seen http.Header
	var seenPath, seenHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, seenPath, seenHost = r.Header.Clone(), r.URL.RequestURI(), r.Host
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := registry.NewConfig(registry.App, "app:p", "t.ini:1", "/tmp/t.ini", nil,
		[]registry.Entry{{Key: "backends", Value: addr}, {Key: "retries", Value: "1"}, {Key: "timeout", Value: "5"}}, nil,
		slog.New(slog.DiscardHandler))
	h, err := httpProxyFactory(c)
	if err != nil {
		t.Fatal(err)
	}
	defer h.(*Proxy).Close()
	if u := c.Unread(); len(u) != 0 {
		t.Errorf("unread keys %v", u)
	}
	req := httptest.NewRequest("GET", "http://front.example/api/x?q=1", nil)
	req.RemoteAddr = "192.0.2.9:1234"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	req = mount.Shift(req, "/api")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	want := map[string]string{
		"X-Forwarded-For": "198.51.100.1, 192.0.2.9", "X-Forwarded-Host": "front.example",
		"X-Forwarded-Proto": "http", "X-Forwarded-Prefix": "/api",
	}
	for k, v := range want {
		if seen.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, seen.Get(k), v)
		}
	}
	if seenPath != "/x?q=1" || seenHost != "front.example" {
		t.Errorf("backend saw %q host %q, want /x?q=1 and front.example", seenPath, seenHost)
	}
}

func TestReadOptionsErrors(t *testing.T) {
	for _, tc := range []struct{ key, val string }{
		{"backends", "nope"}, {"balance", "random"}, {"retries", "-1"},
		{"health_check_path", "x"}, {"max_body_spool", "lots"}, {"script_name", "app"},
	} {
		local := []registry.Entry{{Key: "backends", Value: "127.0.0.1:1"}, {Key: tc.key, Value: tc.val}}
		c := registry.NewConfig(registry.App, "app:p", "t.ini:1", "/tmp/t.ini", nil, local, nil, nil)
		ReadOptions(c)
		if err := c.Err(); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s = %q: err %v, want one naming the key", tc.key, tc.val, err)
		}
	}
}

func TestParseBackend(t *testing.T) {
	for in, want := range map[string]Backend{
		"127.0.0.1:9000":   {Addr: "127.0.0.1:9000", Network: "tcp", Address: "127.0.0.1:9000"},
		"unix:/run/x.sock": {Addr: "unix:/run/x.sock", Network: "unix", Address: "/run/x.sock"},
		"http://[::1]:80/": {Addr: "http://[::1]:80/", Network: "tcp", Address: "[::1]:80"},
		":8000":            {Addr: ":8000", Network: "tcp", Address: "127.0.0.1:8000"},
	} {
		got, err := ParseBackend(in)
		if err != nil || got != want {
			t.Errorf("ParseBackend(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "unix:", "host", "h:0", "h:99999"} {
		if _, err := ParseBackend(bad); err == nil {
			t.Errorf("ParseBackend(%q) accepted", bad)
		}
	}
}

// TestDialAddr: the one dial of every gateway client splits the address,
// bounds the dial by the timeout (10 seconds when zero) and goes through
// the dial function when one is given.
func TestDialAddr(t *testing.T) {
	var gotNet, gotAddr string
	var gotDeadline time.Duration
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		gotNet, gotAddr = network, address
		d, _ := ctx.Deadline()
		gotDeadline = time.Until(d)
		return nil, errors.New("not really")
	}
	if _, err := DialAddr(context.Background(), "unix:/run/app.sock", 0, dial); err == nil {
		t.Fatal("the dial function's error was lost")
	}
	if gotNet != "unix" || gotAddr != "/run/app.sock" || gotDeadline < 9*time.Second || gotDeadline > 10*time.Second {
		t.Errorf("dialed %s %s within %v; want unix /run/app.sock within 10s", gotNet, gotAddr, gotDeadline)
	}
	DialAddr(context.Background(), ":4000", time.Second, dial)
	if gotNet != "tcp" || gotAddr != "127.0.0.1:4000" || gotDeadline > time.Second {
		t.Errorf("dialed %s %s within %v; want tcp 127.0.0.1:4000 within 1s", gotNet, gotAddr, gotDeadline)
	}
	if _, err := DialAddr(context.Background(), "no-port", 0, dial); err == nil {
		t.Error("DialAddr accepted an address without a port")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = DialAddr(context.Background(), addr, 0, nil)
	if !isDialError(err) {
		t.Errorf("refused connection: %v, want a dial *net.OpError", err)
	}
	if _, err = DialAddrOnce(context.Background(), addr, 0, nil); !isDialError(err) {
		t.Errorf("refused one-request connection: %v, want a dial *net.OpError", err)
	}

	// A Unix socket is dialled without a timer, its errors alike.
	sock := filepath.Join(t.TempDir(), "s")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	for _, dial := range []func(context.Context, string, time.Duration, DialFunc) (net.Conn, error){DialAddr, DialAddrOnce} {
		c, err := dial(context.Background(), "unix:"+sock, 0, nil)
		if err != nil {
			t.Fatalf("dial unix: %v", err)
		}
		c.Close()
	}
	ul.Close()
	if _, err := DialAddrOnce(context.Background(), "unix:"+sock, 0, nil); !isDialError(err) {
		t.Errorf("missing socket: %v, want a dial *net.OpError", err)
	}
}
