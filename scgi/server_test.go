package scgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway/gatewaytest"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

// startServer serves h over SCGI on a loopback port until the test ends.
func startServer(t testing.TB, h http.Handler) (addr string, logs *gatewaytest.Logs, s *Server) {
	t.Helper()
	logs = &gatewaytest.Logs{}
	s = &Server{Handler: h, Logger: slog.New(slog.NewTextHandler(logs, nil)), ReadTimeout: 10 * time.Second}
	return gatewaytest.Serve(t, s), logs, s
}

// echo replies with what the handler saw.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "method=%s\nscript=%s\npath=%s\nquery=%s\nhost=%s\nremote=%s\nx-test=%s\nlen=%d\nbody=%s\n",
		r.Method, mount.ScriptName(r.Context()), r.URL.Path, r.URL.RawQuery, r.Host, r.RemoteAddr,
		r.Header.Get("X-Test"), r.ContentLength, body)
})

// rawRequest sends b and returns the whole reply; the client never
// half-closes, as nginx and Apache do not.
func rawRequest(t testing.TB, addr string, b string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, b); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("read reply: %v (got %q)", err, reply)
	}
	return string(reply)
}

func netstring(vars ...string) string {
	var sv []Var
	for i := 0; i+1 < len(vars); i += 2 {
		sv = append(sv, Var{Name: vars[i], Value: vars[i+1]})
	}
	b, err := AppendHeaders(nil, sv)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestServerSpecExample(t *testing.T) {
	addr, _, _ := startServer(t, echo)
	reply := rawRequest(t, addr, specExample)
	if !strings.HasPrefix(reply, "Status: 200 OK\r\n") {
		t.Errorf("reply does not start with a CGI Status line: %q", reply)
	}
	for _, want := range []string{"Content-Type: text/plain\r\n", "Content-Length: ", "\r\n\r\nmethod=POST\n", "path=/deepthought\n", "body=What is the answer to life?\n"} {
		if !strings.Contains(reply, want) {
			t.Errorf("reply lacks %q:\n%s", want, reply)
		}
	}
}

func TestServerReadsExactlyContentLength(t *testing.T) {
	addr, _, _ := startServer(t, echo)
	// Bytes after the body must be ignored, not waited for or read as body.
	reply := rawRequest(t, addr, netstring("CONTENT_LENGTH", "3", "SCGI", "1", "REQUEST_METHOD", "PUT")+"abcEXTRA")
	if !strings.Contains(reply, "body=abc\n") {
		t.Errorf("reply = %q, want body=abc", reply)
	}
}

func TestServerBadRequests(t *testing.T) {
	addr, logs, _ := startServer(t, echo)
	tests := []struct{ name, in, reply, log string }{
		{"http on scgi", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.0 400 Bad Request", "received an HTTP request on an SCGI socket"},
		{"fastcgi on scgi", "\x01\x01\x00\x01\x00\x08\x00\x00", "", "received a FastCGI request on an SCGI socket"},
		{"bad netstring", "12x", "", "malformed header netstring"},
		{"huge length", "99999999:", "", "too large"},
		{"no content length", netstring("CONTENT_LENGTH", "0")[:0] + "8:SCGI\x001\x00\x00\x00,", "", "bad scgi request"},
		{"bad method", netstring("CONTENT_LENGTH", "0", "REQUEST_METHOD", "G\tT"), "Status: 400 Bad Request", "REQUEST_METHOD"},
		{"CR in header", netstring("CONTENT_LENGTH", "0", "REQUEST_METHOD", "GET", "HTTP_X", "a\rb"), "Status: 400", "CR, LF or NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := rawRequest(t, addr, tt.in)
			if !strings.HasPrefix(reply, tt.reply) || (tt.reply == "" && reply != "") {
				t.Errorf("reply = %q, want prefix %q", reply, tt.reply)
			}
			if !strings.Contains(logs.String(), tt.log) {
				t.Errorf("log lacks %q:\n%s", tt.log, logs)
			}
		})
	}
}

// TestConformance runs the suite every gateway server runs: panics,
// 1xx, HEAD, hop-by-hop headers, an unread body, streaming, cancelling,
// graceful shutdown.
func TestConformance(t *testing.T) {
	gatewaytest.Run(t, func(t *testing.T, h http.Handler, log *slog.Logger) gatewaytest.Target {
		s := &Server{Handler: h, Logger: log, ReadTimeout: 10 * time.Second}
		addr := gatewaytest.Serve(t, s)
		return gatewaytest.Target{
			Client:   &Transport{Addr: addr},
			Addr:     addr,
			Shutdown: s.Shutdown,
			Raw: func(t *testing.T, vars []string, body []byte) []byte {
				return gatewaytest.Exchange(t, addr, append(wiretest.Netstring(vars...), body...))
			},
		}
	})
}

// TestTransportRoundTrip: our Transport to our Server, variables mapped
// both ways through cgivars.
func TestTransportRoundTrip(t *testing.T) {
	addr, _, _ := startServer(t, echo)
	tr := &Transport{Addr: addr}
	req, _ := http.NewRequest("POST", "http://front/app/a%20b?x=1", strings.NewReader("payload"))
	req.Header.Set("X-Test", "odd \"value\" ; , é")
	req.RemoteAddr = "192.0.2.1:999"
	req = mount.Shift(req, "/app")
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, want := range []string{"method=POST\n", "script=/app\n", "path=/a b\n", "query=x=1\n", "host=front\n",
		"remote=192.0.2.1:999\n", "x-test=odd \"value\" ; , é\n", "len=7\n", "body=payload\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("backend saw no %q:\n%s", want, b)
		}
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// fakeBackend answers every SCGI request with reply after reading the
// request.
func fakeBackend(t *testing.T, reply func(c net.Conn)) string {
	t.Helper()
	return wiretest.Serve(t, "tcp", func(c net.Conn) {
		if _, err := ReadHeaders(bufio.NewReader(c), 0); err == nil {
			reply(c)
		}
	}).Addr()
}

func TestTransportReplies(t *testing.T) {
	tests := []struct {
		name   string
		reply  string
		status int
		header string
		body   string
		err    error
	}{
		{name: "cgi status", reply: "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope", status: 404, body: "nope"},
		{name: "http status line", reply: "HTTP/1.1 201 Created\r\nX-A: b\r\n\r\nmade", status: 201, header: "X-A", body: "made"},
		{name: "no status", reply: "Content-Type: text/html\r\n\r\n<p>", status: 200, body: "<p>"},
		{name: "location is 302", reply: "Location: http://x/\r\n\r\n", status: 302, header: "Location"},
		{name: "bare LF", reply: "Status: 200 OK\nX-A: b\n\nlf", status: 200, header: "X-A", body: "lf"},
		{name: "content-length honoured", reply: "Content-Length: 2\r\n\r\nokTRAILING", status: 200, body: "ok"},
		{name: "empty reply", reply: "", err: ErrEmptyReply},
		{name: "bad status", reply: "Status: abc\r\n\r\n", err: ErrBadReply},
		{name: "garbage header", reply: "no colon here\r\n\r\n", err: ErrBadReply},
		{name: "truncated headers", reply: "Status: 200 OK\r\nX-A: b", err: ErrBadReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeBackend(t, func(c net.Conn) { io.WriteString(c, tt.reply) })
			req, _ := http.NewRequest("GET", "http://x/", nil)
			res, err := (&Transport{Addr: addr}).RoundTrip(req)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status || string(b) != tt.body || (tt.header != "" && res.Header.Get(tt.header) == "") {
				t.Errorf("got %d %v %q, want %d %q and header %s", res.StatusCode, res.Header, b, tt.status, tt.body, tt.header)
			}
			if res.Header.Get("Status") != "" {
				t.Error("Status header left in the response")
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	t.Run("refused is a dial error", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		req, _ := http.NewRequest("GET", "http://x/", nil)
		_, err := (&Transport{Addr: addr}).RoundTrip(req)
		var oe *net.OpError
		if !errors.As(err, &oe) || oe.Op != "dial" {
			t.Errorf("err = %v, want a dial *net.OpError", err)
		}
	})
	t.Run("response header timeout", func(t *testing.T) {
		block := make(chan struct{})
		defer close(block)
		addr := fakeBackend(t, func(c net.Conn) { <-block })
		req, _ := http.NewRequest("GET", "http://x/", nil)
		_, err := (&Transport{Addr: addr, ResponseHeaderTimeout: 50 * time.Millisecond}).RoundTrip(req)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("err = %v, want a timeout", err)
		}
	})
	t.Run("unknown length", func(t *testing.T) {
		req, _ := http.NewRequest("POST", "http://x/", io.MultiReader(strings.NewReader("x")))
		req.ContentLength = -1 // a chunked upload
		_, err := (&Transport{Addr: "127.0.0.1:1"}).RoundTrip(req)
		if !errors.Is(err, cgivars.ErrLengthRequired) {
			t.Errorf("err = %v, want ErrLengthRequired", err)
		}
	})
	t.Run("huge headers", func(t *testing.T) {
		addr := fakeBackend(t, func(c net.Conn) {
			io.WriteString(c, "X-Big: "+strings.Repeat("a", 4096)+"\r\n\r\n")
		})
		req, _ := http.NewRequest("GET", "http://x/", nil)
		_, err := (&Transport{Addr: addr, MaxResponseHeaderBytes: 1024}).RoundTrip(req)
		if !errors.Is(err, ErrBadReply) {
			t.Errorf("err = %v, want ErrBadReply", err)
		}
	})
	t.Run("backend closes mid-body", func(t *testing.T) {
		addr := fakeBackend(t, func(c net.Conn) { io.WriteString(c, "Content-Length: 10\r\n\r\nabc") })
		req, _ := http.NewRequest("GET", "http://x/", nil)
		res, err := (&Transport{Addr: addr}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if _, err := io.ReadAll(res.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("body err = %v, want io.ErrUnexpectedEOF", err)
		}
	})
}

// TestBadRequestsLeakNothing sends bad requests in bulk (peer.CheckBadInput):
// each is answered or closed, and goroutines and file descriptors come
// back to their baseline.
func TestBadRequestsLeakNothing(t *testing.T) {
	addr, _, _ := startServer(t, echo)
	n := 10000
	if testing.Short() {
		n = 500
	}
	var cases []peer.BadInput
	for _, b := range []string{
		"GET / HTTP/1.1\r\n\r\n", "99999999:", "5:abc", "12:CONTENT_LENGTH\x00",
		netstring("CONTENT_LENGTH", "5", "REQUEST_METHOD", "POST") + "ab", // client stops mid-body
		"\x00\x01", "",
	} {
		cases = append(cases, peer.BadInput{Name: fmt.Sprintf("%q", b), Send: func(c net.Conn) { io.WriteString(c, b) }})
	}
	// Warm up so lazily started runtime goroutines do not count.
	rawRequest(t, addr, specExample)
	peer.CheckBadInput(t, addr, n, cases)
}

// TestAutoProtocol: a "protocol = auto" listener tells SCGI from HTTP.
func TestAutoProtocol(t *testing.T) {
	c := registry.NewConfig(registry.ServerKind, "server:main", "t.ini:1", "/tmp/t.ini", nil,
		[]registry.Entry{{Key: "port", Value: "0"}, {Key: "protocol", Value: "auto"}}, nil, slog.New(slog.DiscardHandler))
	rs, err := serverFactory(c)
	if err != nil {
		t.Fatal(err)
	}
	srv := rs.(*server.Server)
	addrc := make(chan string, 1)
	srv.Ready = func(a net.Addr) { addrc <- a.String() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, echo) }()
	defer func() { cancel(); <-done }()
	addr := <-addrc

	if reply := rawRequest(t, addr, specExample); !strings.Contains(reply, "path=/deepthought") {
		t.Errorf("SCGI on auto port: %q", reply)
	}
	res, err := http.Get("http://" + addr + "/over/http")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), "path=/over/http") {
		t.Errorf("HTTP on auto port: %q", b)
	}
}

// TestProxyToServer: HTTP → scgi_proxy → SCGI → our server → handler, with
// the mount point, forwarding headers and the CVE-2019-11043-style NUL
// guard.
func TestProxyToServer(t *testing.T) {
	addr, _, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "script=%s\npath=%s\nxff=%s\nproto=%s\nlen=%d\n", mount.ScriptName(r.Context()), r.URL.Path,
			r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"), r.ContentLength)
	}))
	c := registry.NewConfig(registry.App, "app:p", "t.ini:1", "/tmp/t.ini", nil,
		[]registry.Entry{{Key: "backends", Value: addr}}, nil, slog.New(slog.DiscardHandler))
	h, err := proxyFactory(c)
	if err != nil {
		t.Fatal(err)
	}
	defer h.(io.Closer).Close()

	req := httptestRequest("POST", "/m/x/y", "abc")
	req.RemoteAddr = "203.0.113.5:4444"
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	req = mount.Shift(req, "/m")
	rec := newRecorder()
	h.ServeHTTP(rec, req)
	want := "script=/m\npath=/x/y\nxff=198.51.100.7, 203.0.113.5\nproto=http\nlen=3\n"
	if rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body, want)
	}

	rec = newRecorder()
	h.ServeHTTP(rec, httptestRequest("GET", "/x%00.php", ""))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("NUL in path: %d, want 400", rec.Code)
	}
}

func httptestRequest(method, target, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return httptest.NewRequest(method, target, r)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// TestServerHeaderTimeout: a connection that sends nothing, or trickles
// its header, is closed (issue 12: no default read timeout).
func TestServerHeaderTimeout(t *testing.T) {
	s := &Server{Handler: http.NotFoundHandler(), Logger: slog.New(slog.DiscardHandler), HeaderTimeout: 200 * time.Millisecond}
	addr := gatewaytest.Serve(t, s)
	gatewaytest.ExpectClosed(t, addr, nil, 200*time.Millisecond)
	gatewaytest.ExpectClosed(t, addr, []byte("70:CONTENT_LENGTH\x000\x00"), 200*time.Millisecond)
}
