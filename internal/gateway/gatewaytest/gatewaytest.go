// Package gatewaytest is the conformance suite every gateway protocol
// server (scgi, uwsgi, fastcgi, cgi) runs, so that each is held to the
// same reply rules (internal/gateway's): a panic before and after the
// head, http.ErrAbortHandler, interim (1xx) codes, HEAD, 204 and 304,
// hop-by-hop headers, sniffing and Content-Length, a body larger than the
// handler reads, and, for servers on a connection, streaming with Flush,
// cancelling on a client that goes away, graceful shutdown and
// http.ResponseController's deadlines.
//
// A protocol's test gives [Run] a [Start] that serves a handler and says
// how to reach it: through the protocol's own client (Client) and with raw
// bytes as a web server sends them (Raw).
package gatewaytest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Target is a server under test, as Start returns it.
type Target struct {
	// Client reaches the server through the protocol's client; the
	// request URL's host does not matter. Nil when the server has no
	// connection to reach (CGI).
	Client http.RoundTripper
	// Addr is the server's address ("host:port"); empty for CGI.
	Addr string
	// Raw sends one request as a web server would (the CGI variables of
	// Vars, framed by the protocol, then body, written while the reply is
	// read) and returns the reply's bytes: the head, CGI or HTTP, and the
	// body, unframed (FastCGI: the STDOUT stream).
	Raw func(t *testing.T, vars []string, body []byte) []byte
	// Shutdown stops the server gracefully; nil when there is none.
	Shutdown func(context.Context) error
}

// Start serves h, logging to log, until the test ends.
type Start func(t *testing.T, h http.Handler, log *slog.Logger) Target

// Vars returns the CGI variables (name, value, name, value...) a web
// server sends for a request: method and target ("/path?query"), the
// header as HTTP_* variables, and a CONTENT_LENGTH of bodyLen first, as
// SCGI wants.
func Vars(method, target string, header http.Header, bodyLen int) []string {
	path, query, _ := strings.Cut(target, "?")
	v := []string{
		"CONTENT_LENGTH", strconv.Itoa(bodyLen),
		"SCGI", "1",
		"REQUEST_METHOD", method,
		"REQUEST_URI", target,
		"SCRIPT_NAME", "",
		"PATH_INFO", path,
		"QUERY_STRING", query,
		"SERVER_PROTOCOL", "HTTP/1.1",
		"SERVER_NAME", "localhost",
		"SERVER_PORT", "80",
		"REMOTE_ADDR", "127.0.0.1",
		"REMOTE_PORT", "40000",
		"HTTP_HOST", "localhost",
	}
	for k, vs := range header {
		v = append(v, "HTTP_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_")), strings.Join(vs, ", "))
	}
	return v
}

// Reply is a reply parsed from Raw's bytes.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
	Heads  int // status lines seen: more than one means an interim reply leaked
}

// ParseReply reads a reply that starts with a CGI head ("Status:" or no
// status, RFC 3875 §6) or an HTTP status line.
func ParseReply(b []byte) (Reply, error) {
	r := Reply{Status: 200}
	br := bufio.NewReader(bytes.NewReader(b))
	if bytes.HasPrefix(b, []byte("HTTP/")) {
		line, _ := br.ReadString('\n')
		f := strings.Fields(line)
		if len(f) < 2 {
			return r, fmt.Errorf("gatewaytest: bad status line %q", line)
		}
		r.Status, _ = strconv.Atoi(f[1])
	}
	mh, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		return r, fmt.Errorf("gatewaytest: head of %q: %v", b, err)
	}
	r.Header = http.Header(mh)
	if s := r.Header.Get("Status"); s != "" {
		r.Status, _ = strconv.Atoi(strings.Fields(s)[0])
	}
	r.Body, _ = io.ReadAll(br)
	r.Heads = bytes.Count(b, []byte("\nStatus: ")) + bytes.Count(b, []byte("HTTP/1.1 "))
	if bytes.HasPrefix(b, []byte("Status: ")) {
		r.Heads++
	}
	return r, nil
}

// Logs keeps log output for a test's checks; it is safe for concurrent
// use. slog.New(slog.NewTextHandler(logs, nil)) logs into it.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func start(t *testing.T, st Start, h http.Handler) (Target, *Logs) {
	t.Helper()
	logs := &Logs{}
	return st(t, h, slog.New(slog.NewTextHandler(logs, nil))), logs
}

func raw(t *testing.T, tg Target, method, target string, header http.Header, body []byte) Reply {
	t.Helper()
	b := tg.Raw(t, Vars(method, target, header, len(body)), body)
	r, err := ParseReply(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Run runs the suite against the server that st starts (once per case).
func Run(t *testing.T, st Start) {
	t.Run("PanicBeforeReply", func(t *testing.T) { testPanicBeforeReply(t, st) })
	t.Run("PanicAfterFlush", func(t *testing.T) { testPanicAfterFlush(t, st) })
	t.Run("AbortHandler", func(t *testing.T) { testAbortHandler(t, st) })
	t.Run("Interim", func(t *testing.T) { testInterim(t, st) })
	t.Run("NoBody", func(t *testing.T) { testNoBody(t, st) })
	t.Run("HopByHop", func(t *testing.T) { testHopByHop(t, st) })
	t.Run("SniffAndLength", func(t *testing.T) { testSniffAndLength(t, st) })
	t.Run("UnreadBody", func(t *testing.T) { testUnreadBody(t, st) })
	t.Run("Stream", func(t *testing.T) { testStream(t, st) })
	t.Run("CancelOnClientClose", func(t *testing.T) { testCancel(t, st) })
	t.Run("ShutdownDrains", func(t *testing.T) { testShutdown(t, st) })
	t.Run("ResponseController", func(t *testing.T) { testController(t, st) })
}

func testPanicBeforeReply(t *testing.T, st Start) {
	tg, logs := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Lost", "yes")
		io.WriteString(w, "lost")
		panic("boom")
	}))
	r := raw(t, tg, "GET", "/p", http.Header{"X-Request-Id": {"req-42"}}, nil)
	if r.Status != 500 || !bytes.Contains(r.Body, []byte("500")) || r.Header.Get("X-Lost") != "" || bytes.Contains(r.Body, []byte("lost")) {
		t.Errorf("reply = %d %v %q, want a plain 500 without the handler's header and body", r.Status, r.Header, r.Body)
	}
	log := logs.String()
	for _, want := range []string{"handler panic", "boom", "req-42", "stack=", "gatewaytest"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func testPanicAfterFlush(t *testing.T, st Start) {
	tg, logs := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("late boom")
	}))
	r := raw(t, tg, "GET", "/p", nil, nil)
	if r.Status != 200 || string(r.Body) != "partial" || r.Header.Get("Content-Length") != "" {
		t.Errorf("reply = %d %v %q, want the cut 200 as it was, no 500 after it", r.Status, r.Header, r.Body)
	}
	if !strings.Contains(logs.String(), "late boom") {
		t.Errorf("log lacks the panic:\n%s", logs)
	}
}

func testAbortHandler(t *testing.T, st Start) {
	tg, logs := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Lost", "yes")
		panic(http.ErrAbortHandler)
	}))
	b := tg.Raw(t, Vars("GET", "/a", nil, 0), nil)
	if len(b) != 0 {
		t.Errorf("reply = %q, want none: the handler aborted", b)
	}
	if strings.Contains(logs.String(), "handler panic") {
		t.Errorf("http.ErrAbortHandler was logged as a panic:\n%s", logs)
	}
}

func testInterim(t *testing.T, st Start) {
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusContinue)
		w.WriteHeader(http.StatusSwitchingProtocols)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "made")
	}))
	r := raw(t, tg, "GET", "/i", nil, nil)
	if r.Status != 201 || r.Heads != 1 || string(r.Body) != "made" || r.Header.Get("Link") == "" {
		t.Errorf("reply = %d (%d heads) %v %q, want one 201 head with the Link header and the body", r.Status, r.Heads, r.Header, r.Body)
	}
}

func testNoBody(t *testing.T, st Start) {
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, _ := strconv.Atoi(r.URL.Query().Get("code")); code != 0 {
			w.WriteHeader(code)
		}
		io.WriteString(w, "hello world")
	}))
	r := raw(t, tg, "HEAD", "/h", nil, nil)
	if r.Status != 200 || len(r.Body) != 0 || r.Header.Get("Content-Length") != "11" || r.Header.Get("Content-Type") == "" {
		t.Errorf("HEAD = %d %v %q, want 200, Content-Length 11, a type, no body", r.Status, r.Header, r.Body)
	}
	for _, code := range []int{204, 304} {
		r := raw(t, tg, "GET", "/h?code="+strconv.Itoa(code), nil, nil)
		if r.Status != code || len(r.Body) != 0 || r.Header.Get("Content-Length") != "" || r.Header.Get("Content-Type") != "" {
			t.Errorf("%d = %d %v %q, want no body, length or type", code, r.Status, r.Header, r.Body)
		}
	}
}

func testHopByHop(t *testing.T, st Start) {
	hop := []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Status"}
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, k := range hop {
			w.Header().Set(k, "x")
		}
		w.Header().Set("Transfer-Encoding", "chunked")
		w.Header().Set("Status", "500 Bad")
		w.Header().Set("X-End-To-End", "kept")
		w.Header().Set("X-Split", "a\r\nX-Injected: 1")
		io.WriteString(w, "body")
	}))
	r := raw(t, tg, "GET", "/hop", nil, nil)
	for _, k := range hop {
		if k == "Status" && r.Header.Get("Status") == "200 OK" {
			continue
		}
		if v := r.Header.Values(k); len(v) > 0 {
			t.Errorf("%s: %q sent", k, v)
		}
	}
	if r.Status != 200 || string(r.Body) != "body" || r.Header.Get("X-End-To-End") != "kept" || r.Header.Get("X-Injected") != "" {
		t.Errorf("reply = %d %v %q", r.Status, r.Header, r.Body)
	}
}

func testSniffAndLength(t *testing.T, st Start) {
	long := bytes.Repeat([]byte("<p>paragraph</p>\n"), 1000)
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/long" {
			w.Write(long)
			return
		}
		io.WriteString(w, "<!DOCTYPE html><title>t</title>")
	}))
	r := raw(t, tg, "GET", "/short", nil, nil)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || r.Header.Get("Content-Length") != "31" {
		t.Errorf("short reply: %v, want text/html sniffed and Content-Length 31", r.Header)
	}
	r = raw(t, tg, "GET", "/long", nil, nil)
	if !bytes.Equal(r.Body, long) || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("long reply: %v, %d bytes, want %d", r.Header, len(r.Body), len(long))
	}
}

// testUnreadBody: a body larger than the handler reads (issue 9's lost
// replies): the whole reply arrives, every time.
func testUnreadBody(t *testing.T, st Start) {
	reply := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16)
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.CopyN(io.Discard, r.Body, 64<<10)
		w.Header().Set("X-Read", strconv.FormatInt(n, 10))
		w.Write(reply)
	}))
	body := bytes.Repeat([]byte("x"), 1<<20)
	for i := range 20 {
		r := raw(t, tg, "POST", "/upload", nil, body)
		if r.Status != 200 || r.Header.Get("X-Read") != "65536" || !bytes.Equal(r.Body, reply) {
			t.Fatalf("try %d: %d %v, %d bytes of %d", i, r.Status, r.Header, len(r.Body), len(reply))
		}
	}
}

func get(t *testing.T, tg Target, ctx context.Context, path string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://gateway.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tg.Client.RoundTrip(req)
}

func testStream(t *testing.T, st Start) {
	release := make(chan struct{})
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "last\n")
	}))
	if tg.Client == nil {
		close(release)
		return // CGI: no connection to stream on (cgi's own tests check Flush)
	}
	res, err := get(t, tg, t.Context(), "/stream")
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.ContentLength != -1 {
		t.Errorf("a streamed reply has a length: %d", res.ContentLength)
	}
	first := make([]byte, 6)
	_, err = io.ReadFull(res.Body, first)
	close(release)
	if err != nil || string(first) != "first\n" {
		t.Fatalf("first chunk %q, %v: it must arrive before the handler ends", first, err)
	}
	rest, err := io.ReadAll(res.Body)
	if err != nil || string(rest) != "last\n" {
		t.Errorf("rest %q, %v", rest, err)
	}
}

func testCancel(t *testing.T, st Start) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
	}))
	if tg.Client == nil {
		return // CGI: the web server ends the program instead
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := get(t, tg, ctx, "/wait"); err == nil {
			res.Body.Close()
		}
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not start")
	}
	cancel()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Error("the handler's context was not cancelled when the client went away")
	}
	<-done
}

func testShutdown(t *testing.T, st Start) {
	started, release := make(chan struct{}), make(chan struct{})
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	}))
	if tg.Client == nil || tg.Shutdown == nil {
		close(release)
		return
	}
	type result struct {
		body string
		err  error
	}
	var idle net.Conn // connected, nothing sent: Shutdown closes it
	if tg.Addr != "" {
		var err error
		if idle, err = net.Dial("tcp", tg.Addr); err != nil {
			t.Fatal(err)
		}
		defer idle.Close()
	}
	got := make(chan result, 1)
	go func() {
		res, err := get(t, tg, context.Background(), "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		got <- result{string(b), err}
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		close(release)
		t.Fatal("the handler did not start")
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- tg.Shutdown(ctx)
	}()
	select {
	case err := <-shut:
		close(release)
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request: %q, %v; want it finished", r.body, r.err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if res, err := get(t, tg, context.Background(), "/after"); err == nil {
		res.Body.Close()
		t.Error("a request after Shutdown was served")
	}
	if idle != nil {
		idle.SetReadDeadline(time.Now().Add(time.Second))
		if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("idle connection not closed by Shutdown: %d, %v", n, err)
		}
	}
}

func testController(t *testing.T, st Start) {
	var connected atomic.Bool // deadlines must work on a connection
	tg, _ := start(t, st, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for name, err := range map[string]error{
			"SetReadDeadline":  rc.SetReadDeadline(time.Now().Add(time.Minute)),
			"SetWriteDeadline": rc.SetWriteDeadline(time.Now().Add(time.Minute)),
			"Flush":            rc.Flush(),
		} {
			if err != nil && (connected.Load() || name == "Flush" || !errors.Is(err, http.ErrNotSupported)) {
				fmt.Fprintf(w, "%s: %v\n", name, err)
			}
		}
		io.WriteString(w, "ok")
	}))
	connected.Store(tg.Client != nil)
	r := raw(t, tg, "GET", "/rc", nil, nil)
	if string(r.Body) != "ok" {
		t.Errorf("ResponseController: %q", r.Body)
	}
}

// Exchange dials addr, writes request (while reading, as a web server
// does) and returns what the server sent until it closed the connection.
func Exchange(t *testing.T, addr string, request []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go c.Write(request) // an error shows as a short reply
	b, err := io.ReadAll(c)
	if err != nil {
		t.Logf("reading the reply: %v", err) // a reset: the reply may be cut
	}
	return b
}

// Serve serves s on a loopback port until the test ends and returns its
// address.
func Serve(t testing.TB, s interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve = %v, want http.ErrServerClosed", err)
		}
	})
	return l.Addr().String()
}

// ExpectClosed dials addr, writes prefix (a request cut short, or
// nothing) and fails the test unless the server closes the connection
// within d: the header and idle timeouts of issue 12.
func ExpectClosed(t *testing.T, addr string, prefix []byte, d time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(prefix); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.SetReadDeadline(start.Add(d + 2*time.Second))
	_, err = io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection that sent %q still open after %v", prefix, time.Since(start))
	}
}
