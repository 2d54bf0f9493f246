package fastcgi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/gateway/gatewaytest"
	"github.com/gopaste/gopaste/internal/wiretest"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startServer serves h over FastCGI on a loopback port until the test ends.
func startServer(t testing.TB, h http.Handler, opts ...func(*Server)) (*Server, string) {
	t.Helper()
	s := &Server{Handler: h, Logger: quiet()}
	for _, o := range opts {
		o(s)
	}
	return s, gatewaytest.Serve(t, s)
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	fmt.Fprintf(w, "%s %s?%s host=%s len=%d body=%q", r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.ContentLength, body)
}

func do(t testing.TB, rt http.RoundTripper, method, url, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func TestServerRoundTrip(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	tr := &Transport{Addr: addr, Logger: quiet()}
	defer tr.Close()
	tests := []struct {
		name, method, url, body, want string
	}{
		{"get with query", "GET", "http://example.com/a/b?x=1&y=%20", "", `GET /a/b?x=1&y=%20 host=example.com len=0 body=""`},
		{"post", "POST", "http://example.com/p", "hello=1", `POST /p? host=example.com len=7 body="hello=1"`},
		{"big post", "POST", "http://example.com/big", strings.Repeat("z", 200000), `POST /big? host=example.com len=200000 body="` + strings.Repeat("z", 200000) + `"`},
		{"head", "HEAD", "http://example.com/h", "", ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, got, _ := do(t, tr, tc.method, tc.url, tc.body)
			if code != 200 || got != tc.want {
				t.Errorf("got %d %.100q, want 200 %.100q", code, got, tc.want)
			}
		})
	}
}

func TestServerKeepsConnection(t *testing.T) {
	var mu sync.Mutex
	addrs := map[string]bool{}
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		addrs[r.RemoteAddr] = true
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	tr := &Transport{Addr: addr, MaxConns: 1, Logger: quiet()}
	defer tr.Close()
	for i := 0; i < 50; i++ {
		if code, body, _ := do(t, tr, "GET", "http://x/", ""); code != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	if len(addrs) != 1 {
		t.Errorf("50 requests used %d connections, want 1", len(addrs))
	}
}

func TestServerStatusAndHeaders(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Odd", "a\r\nInjected: yes")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "<html>made</html>")
	}))
	tr := &Transport{Addr: addr, Logger: quiet()}
	defer tr.Close()
	code, body, h := do(t, tr, "GET", "http://x/", "")
	if code != 201 || body != "<html>made</html>" {
		t.Errorf("got %d %q", code, body)
	}
	if h.Get("Injected") != "" || h.Get("X-Odd") != "a  Injected: yes" {
		t.Errorf("header injection: %v", h)
	}
	if len(h.Values("Set-Cookie")) != 2 || h.Get("Content-Length") != "17" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Errorf("headers = %v", h)
	}
}

// rawConn speaks records to a server directly.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	rr *Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, rr: NewReader(bufio.NewReader(nc))}
}

func (c *rawConn) send(b []byte) {
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// wireRequest builds the records of a whole request.
func wireRequest(id uint16, flags uint8, params []Pair, body string) []byte {
	b := AppendBeginRequest(nil, id, BeginRequest{Role: RoleResponder, Flags: flags})
	b = AppendStream(b, TypeParams, id, AppendPairs(nil, params))
	b = AppendRecord(b, TypeParams, id, nil)
	b = AppendStream(b, TypeStdin, id, []byte(body))
	return AppendRecord(b, TypeStdin, id, nil)
}

// reply reads records until END_REQUEST of id and returns the STDOUT.
func (c *rawConn) reply(id uint16) (string, EndRequest) {
	var out bytes.Buffer
	for {
		if err := c.rr.Next(); err != nil {
			c.t.Fatalf("reading reply: %v (so far %q)", err, out.String())
		}
		if c.rr.Header.ID != id {
			continue
		}
		switch c.rr.Header.Type {
		case TypeStdout:
			out.Write(c.rr.Content)
		case TypeEndRequest:
			e, _ := ParseEndRequest(c.rr.Content)
			return out.String(), e
		}
	}
}

func TestServerGetValues(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler), func(s *Server) { s.MaxConns = 7 })
	c := dialRaw(t, addr)
	c.send(AppendRecord(nil, TypeGetValues, 0, AppendPairs(nil, []Pair{{Name: MaxConnsVar, Value: ""}, {Name: MpxsConnsVar, Value: ""}, {Name: "OTHER", Value: ""}})))
	if err := c.rr.Next(); err != nil {
		t.Fatal(err)
	}
	if c.rr.Header.Type != TypeGetValuesResult {
		t.Fatalf("reply type %v", c.rr.Header.Type)
	}
	got := map[string]string{}
	ParsePairs(c.rr.Content, func(n, v string) error { got[n] = v; return nil })
	if got[MaxConnsVar] != "7" || got[MpxsConnsVar] != "1" || len(got) != 2 {
		t.Errorf("GET_VALUES_RESULT = %v", got)
	}
	// An unknown management record gets UNKNOWN_TYPE.
	c.send(AppendRecord(nil, 42, 0, nil))
	if err := c.rr.Next(); err != nil || c.rr.Header.Type != TypeUnknownType || c.rr.Content[0] != 42 {
		t.Errorf("unknown type reply %+v %q %v", c.rr.Header, c.rr.Content, err)
	}
}

func TestServerMultiplexes(t *testing.T) {
	gate := make(chan struct{})
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-gate
		}
		io.WriteString(w, r.URL.Path)
	}))
	c := dialRaw(t, addr)
	c.send(wireRequest(1, FlagKeepConn, []Pair{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "REQUEST_URI", Value: "/slow"}}, ""))
	c.send(wireRequest(2, FlagKeepConn, []Pair{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "REQUEST_URI", Value: "/fast"}}, ""))
	out, _ := c.reply(2) // answered while 1 still runs
	if !strings.HasSuffix(out, "/fast") {
		t.Errorf("request 2 = %q", out)
	}
	close(gate)
	if out, _ := c.reply(1); !strings.HasSuffix(out, "/slow") {
		t.Errorf("request 1 = %q", out)
	}
}

func TestServerEmptyContentLength(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	c := dialRaw(t, addr)
	c.send(wireRequest(1, 0, []Pair{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "CONTENT_LENGTH", Value: ""}, {Name: "REQUEST_URI", Value: "/x"}}, ""))
	out, e := c.reply(1)
	if !strings.Contains(out, "Status: 200 OK\r\n") || !strings.HasSuffix(out, `GET /x? host= len=0 body=""`) || e.ProtocolStatus != 0 {
		t.Errorf("reply %q %+v", out, e)
	}
}

func TestServerUnknownRole(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	c := dialRaw(t, addr)
	c.send(AppendBeginRequest(nil, 3, BeginRequest{Role: RoleAuthorizer}))
	if _, e := c.reply(3); e.ProtocolStatus != StatusUnknownRole {
		t.Errorf("END_REQUEST %+v, want UNKNOWN_ROLE", e)
	}
}

func TestServerAbort(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan error, 1)
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		_, err := io.ReadAll(r.Body)
		cancelled <- err
	}))
	c := dialRaw(t, addr)
	b := AppendBeginRequest(nil, 1, BeginRequest{Role: RoleResponder, Flags: FlagKeepConn})
	b = AppendStream(b, TypeParams, 1, AppendPairs(nil, []Pair{{Name: "REQUEST_METHOD", Value: "POST"}, {Name: "CONTENT_LENGTH", Value: "10"}}))
	b = AppendRecord(b, TypeParams, 1, nil)
	c.send(b)
	<-started
	c.send(AppendRecord(nil, TypeAbortRequest, 1, nil))
	if err := <-cancelled; !errors.Is(err, ErrRequestAborted) {
		t.Errorf("body after abort: %v", err)
	}
	if _, e := c.reply(1); e.ProtocolStatus != StatusRequestComplete {
		t.Errorf("END_REQUEST %+v", e)
	}
}

func TestServerParamsLimit(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler), func(s *Server) { s.MaxParamsBytes = 100 })
	c := dialRaw(t, addr)
	c.send(wireRequest(1, 0, []Pair{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "HTTP_COOKIE", Value: strings.Repeat("c", 200)}}, ""))
	if out, _ := c.reply(1); !strings.HasPrefix(out, "Status: 431 ") {
		t.Errorf("reply = %q", out)
	}
}

func TestServerBadParams(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	for _, params := range [][]Pair{
		{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "HTTP_X", Value: "a\nb"}},
		{{Name: "REQUEST_METHOD", Value: ""}},
		{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "CONTENT_LENGTH", Value: "x"}},
	} {
		c := dialRaw(t, addr)
		c.send(wireRequest(1, 0, params, ""))
		if out, _ := c.reply(1); !strings.HasPrefix(out, "Status: 400 ") {
			t.Errorf("%v: reply = %q", params, out)
		}
	}
}

// TestTransportToNetHTTPFCGI runs our client against the standard library's
// FastCGI server.
func TestTransportToNetHTTPFCGI(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go fcgi.Serve(l, http.HandlerFunc(echoHandler))
	tr := &Transport{Addr: l.Addr().String(), Logger: quiet()}
	defer tr.Close()
	for i := 0; i < 3; i++ {
		code, body, _ := do(t, tr, "POST", "http://example.com/std?q=1", "abc")
		if code != 200 || body != `POST /std?q=1 host=example.com len=3 body="abc"` {
			t.Errorf("got %d %q", code, body)
		}
	}
}

func benchRoundTrip(b *testing.B, keep bool, serve func(net.Listener, http.Handler)) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, World!\n")
	})
	go serve(l, hello)
	addr := l.Addr().String()
	b.ReportAllocs()
	if keep {
		wire := wireRequest(1, FlagKeepConn, benchPairs(), "")
		c := dialRaw(b, addr)
		c.nc.SetDeadline(time.Time{})
		for b.Loop() {
			c.send(wire)
			c.reply(1)
		}
		return
	}
	wire := wireRequest(1, 0, benchPairs(), "")
	for b.Loop() {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c := &rawConn{t: b, nc: nc, rr: NewReader(bufio.NewReader(nc))}
		c.send(wire)
		c.reply(1)
		nc.Close()
	}
}

// BenchmarkServerRoundTrip compares our server with net/http/fcgi: the
// records nginx sends for a GET, a 14-byte reply; on one kept connection
// (fastcgi_keep_conn on) and on a connection per request (nginx's
// default).
func BenchmarkServerRoundTrip(b *testing.B) {
	for _, keep := range []bool{true, false} {
		mode := "keepconn"
		if !keep {
			mode = "connperrequest"
		}
		b.Run(mode+"/gopaste", func(b *testing.B) {
			s := &Server{Logger: quiet()}
			benchRoundTrip(b, keep, func(l net.Listener, h http.Handler) { s.Handler = h; s.Serve(l) })
			s.Close()
		})
		b.Run(mode+"/net-http-fcgi", func(b *testing.B) {
			benchRoundTrip(b, keep, func(l net.Listener, h http.Handler) { fcgi.Serve(l, h) })
		})
	}
}

// waitABit yields to other goroutines while a test polls a condition.
func waitABit() { time.Sleep(time.Millisecond) }

// TestServerInterleavedBodies: request 1's body is still coming when
// request 2 is complete; both are served (neither waits for the other).
func TestServerInterleavedBodies(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	c := dialRaw(t, addr)
	var b []byte
	for _, id := range []uint16{1, 2} {
		b = AppendBeginRequest(b, id, BeginRequest{Role: RoleResponder, Flags: FlagKeepConn})
		b = AppendStream(b, TypeParams, id, AppendPairs(nil, []Pair{{Name: "REQUEST_METHOD", Value: "POST"}, {Name: "CONTENT_LENGTH", Value: "4"}}))
		b = AppendRecord(b, TypeParams, id, nil)
	}
	b = AppendRecord(b, TypeStdin, 1, []byte("on"))
	b = AppendRecord(b, TypeStdin, 2, []byte("two!"))
	b = AppendRecord(b, TypeStdin, 2, nil)
	c.send(b)
	if out, _ := c.reply(2); !strings.HasSuffix(out, `body="two!"`) {
		t.Errorf("request 2: %q", out)
	}
	c.send(append(AppendRecord(nil, TypeStdin, 1, []byte("e!")), AppendRecord(nil, TypeStdin, 1, nil)...))
	if out, _ := c.reply(1); !strings.HasSuffix(out, `body="one!"`) {
		t.Errorf("request 1: %q", out)
	}
}

// TestConformance runs the suite every gateway server runs: panics,
// 1xx, HEAD, hop-by-hop headers, an unread body, streaming, cancelling,
// graceful shutdown. Raw requests end the connection (nginx's default);
// the Transport keeps it.
func TestConformance(t *testing.T) {
	gatewaytest.Run(t, func(t *testing.T, h http.Handler, log *slog.Logger) gatewaytest.Target {
		s := &Server{Handler: h, Logger: log, ReadTimeout: 10 * time.Second}
		addr := gatewaytest.Serve(t, s)
		tr := &Transport{Addr: addr, Logger: quiet()}
		t.Cleanup(func() { tr.Close() })
		return gatewaytest.Target{
			Client:   tr,
			Addr:     addr,
			Shutdown: s.Shutdown,
			Raw: func(t *testing.T, vars []string, body []byte) []byte {
				return stdoutOf(t, gatewaytest.Exchange(t, addr, wiretest.FCGIRequest(1, 0, string(body), vars...)))
			},
		}
	})
}

// stdoutOf returns the STDOUT stream of request 1 in a server's records.
func stdoutOf(t *testing.T, b []byte) []byte {
	t.Helper()
	rr := NewReader(bufio.NewReader(bytes.NewReader(b)))
	var out []byte
	for rr.Next() == nil {
		switch rr.Header.Type {
		case TypeStdout:
			out = append(out, rr.Content...)
		case TypeEndRequest:
			return out
		}
	}
	return out
}

// TestServerConnLimits is issue 12's FastCGI memory exhaustion: one
// connection opening many requests, each with unfinished PARAMS, is
// closed (and logged) at MaxReqs requests in flight or at MaxConnBytes
// held; other connections are served as before.
func TestServerConnLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reqs  int
		chunk int
	}{
		{"requests in flight", 6, 10},
		{"bytes held", 3, 30 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &gatewaytest.Logs{}
			_, addr := startServer(t, http.HandlerFunc(echoHandler), func(s *Server) {
				s.MaxReqs, s.MaxConnBytes = 5, 64<<10
				s.Logger = slog.New(slog.NewTextHandler(logs, nil))
			})
			c := dialRaw(t, addr)
			var b []byte
			for id := uint16(1); id <= uint16(tc.reqs); id++ {
				b = AppendBeginRequest(b, id, BeginRequest{Role: RoleResponder, Flags: FlagKeepConn})
				b = AppendRecord(b, TypeParams, id, AppendPairs(nil, []Pair{{Name: "HTTP_X", Value: strings.Repeat("p", tc.chunk)}}))
			}
			go c.nc.Write(b) // the server may close before reading it all
			c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			if err := c.rr.Next(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("connection not closed: %v", err)
			}
			if !strings.Contains(logs.String(), ErrConnLimit.Error()) {
				t.Errorf("log lacks %q:\n%s", ErrConnLimit, logs)
			}
			ok := dialRaw(t, addr)
			ok.send(wireRequest(1, 0, []Pair{{Name: "REQUEST_METHOD", Value: "GET"}}, ""))
			if out, _ := ok.reply(1); !strings.Contains(out, "GET") {
				t.Errorf("a normal request after: %q", out)
			}
		})
	}
}

// TestServerTimeouts: a connection that sends nothing is closed after the
// idle timeout, quietly; one that sends only BEGIN_REQUEST, or part of its
// PARAMS, after the header timeout, logged (issue 12).
func TestServerTimeouts(t *testing.T) {
	logs := &gatewaytest.Logs{}
	s := &Server{Handler: http.NotFoundHandler(), Logger: slog.New(slog.NewTextHandler(logs, nil)),
		IdleTimeout: 200 * time.Millisecond, HeaderTimeout: 300 * time.Millisecond}
	addr := gatewaytest.Serve(t, s)
	gatewaytest.ExpectClosed(t, addr, nil, 200*time.Millisecond)
	if logs.String() != "" {
		t.Errorf("idle close logged: %s", logs)
	}
	begin := AppendBeginRequest(nil, 1, BeginRequest{Role: RoleResponder, Flags: FlagKeepConn})
	gatewaytest.ExpectClosed(t, addr, begin, 300*time.Millisecond)
	gatewaytest.ExpectClosed(t, addr, AppendRecord(begin, TypeParams, 1, AppendPairs(nil, []Pair{{Name: "A", Value: "b"}})), 300*time.Millisecond)
	if !strings.Contains(logs.String(), "timeout") {
		t.Errorf("header timeout not logged: %s", logs)
	}
}
