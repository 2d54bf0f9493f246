package uwsgi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/gateway/gatewaytest"
	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/mount"
)

// startServer serves h over uwsgi on a loopback port until the test ends.
func startServer(t testing.TB, h http.Handler, opts ...func(*Server)) (*Server, string) {
	t.Helper()
	s := &Server{Handler: h, Logger: slog.New(slog.DiscardHandler)}
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
	w.Header().Set("X-Script-Name", mount.ScriptName(r.Context()))
	fmt.Fprintf(w, "%s %s?%s host=%s len=%d body=%q agent=%q",
		r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.ContentLength, body, r.Header.Get("User-Agent"))
}

func TestServerRoundTrip(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	client := &http.Client{Transport: &Transport{Addr: addr}}
	tests := []struct {
		name, method, url, body, want string
		status                        int
	}{
		{"get with query", "GET", "http://example.com/a/b?x=1&y=%20", "", `GET /a/b?x=1&y=%20 host=example.com len=0 body="" agent="t"`, 200},
		{"post", "POST", "http://example.com/p", "hello=1", `POST /p? host=example.com len=7 body="hello=1" agent="t"`, 200},
		{"head", "HEAD", "http://example.com/h", "", ``, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, _ := http.NewRequest(tc.method, tc.url, body)
			req.Header.Set("User-Agent", "t")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || string(got) != tc.want {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, got, tc.status, tc.want)
			}
		})
	}
}

// TestServerStatusLine pins the reply format Apache's mod_proxy_uwsgi needs:
// an HTTP status line, not a CGI Status header.
func TestServerStatusLine(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short")
	}))
	reply := rawRequest(t, addr, []Var{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "PATH_INFO", Value: "/"}}, "")
	if !strings.HasPrefix(reply, "HTTP/1.1 418 I'm a teapot\r\n") {
		t.Errorf("reply starts %q", reply[:min(len(reply), 40)])
	}
	if !strings.Contains(reply, "Content-Length: 5\r\n") || !strings.HasSuffix(reply, "\r\n\r\nshort") {
		t.Errorf("reply = %q", reply)
	}
}

func rawRequest(t *testing.T, addr string, vars []Var, body string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := WritePacket(c, 0, 0, vars); err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, body)
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestModifier30FixesPath(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	for _, tc := range []struct {
		path, script, want string
	}{
		{"/app/x/y", "/app", "GET /x/y?"},
		{"/app", "/app", "GET ?"},
		{"/application", "/app", "GET /application?"},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		WritePacket(c, ModifierFixPath, 0, []Var{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "SCRIPT_NAME", Value: tc.script}, {Name: "PATH_INFO", Value: tc.path}})
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		if !strings.HasPrefix(string(b), tc.want) {
			t.Errorf("modifier1 30 PATH_INFO=%s SCRIPT_NAME=%s: got %q, want prefix %q", tc.path, tc.script, b, tc.want)
		}
	}
}

func mustRequest(method, url string, body io.Reader) *http.Request {
	r, err := http.NewRequest(method, url, body)
	if err != nil {
		panic(err)
	}
	return r
}

func TestServerVarsLimit(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler), func(s *Server) { s.MaxVarsBytes = 100 })
	reply := rawRequest(t, addr, []Var{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "HTTP_COOKIE", Value: strings.Repeat("c", 200)}}, "")
	if !strings.HasPrefix(reply, "HTTP/1.1 431 ") {
		t.Errorf("reply = %q, want 431", reply)
	}
}

func TestServerBadVars(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	for _, vars := range [][]Var{
		{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "HTTP_X", Value: "a\r\nb"}},
		{{Name: "REQUEST_METHOD", Value: "G T"}},
		{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "CONTENT_LENGTH", Value: "-1"}},
	} {
		if reply := rawRequest(t, addr, vars, ""); !strings.HasPrefix(reply, "HTTP/1.1 400 ") {
			t.Errorf("%v: reply = %q, want 400", vars, reply)
		}
	}
}

func TestServerMismatchLogged(t *testing.T) {
	var logs bytes.Buffer
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: http.HandlerFunc(echoHandler), Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))}
	go s.Serve(l)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c) // the server closes
	c.Close()
	s.Close()
	if len(b) != 0 {
		t.Errorf("reply %q, want a close", b)
	}
	if !strings.Contains(logs.String(), "received an HTTP request on a uwsgi socket") {
		t.Errorf("log = %q", logs.String())
	}
}

type syncWriter struct {
	w io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

func TestEmptyReplyNamesModifier(t *testing.T) {
	b := wiretest.Serve(t, "tcp", func(c net.Conn) { io.CopyN(io.Discard, c, 4) })
	_, err := (&Transport{Addr: b.Addr(), Modifier1: 5}).RoundTrip(mustRequest("GET", "http://x/", nil))
	var e *EmptyReplyError
	if !errors.As(err, &e) || e.Modifier1 != 5 || !strings.Contains(err.Error(), "modifier1 5") {
		t.Errorf("err = %v, want EmptyReplyError naming modifier1 5", err)
	}
}

func TestTransportCGIReply(t *testing.T) {
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		ReadPacket(bufio.NewReader(c), 0)
		io.WriteString(c, "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope")
	})
	resp, err := (&Transport{Addr: b.Addr()}).RoundTrip(mustRequest("GET", "http://x/", nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || string(body) != "nope" || resp.Header.Get("Content-Type") != "text/plain" || b.Accepted() != 1 {
		t.Errorf("got %d %q %v over %d connections, want 1", resp.StatusCode, body, resp.Header, b.Accepted())
	}
}

func TestTransportLengthRequired(t *testing.T) {
	req := mustRequest("POST", "http://x/", io.NopCloser(strings.NewReader("abc")))
	req.ContentLength = -1
	_, err := (&Transport{Addr: "127.0.0.1:1"}).RoundTrip(req)
	if err == nil || !strings.Contains(err.Error(), "length unknown") {
		t.Errorf("err = %v", err)
	}
}

// TestConformance runs the suite every gateway server runs: panics,
// 1xx, HEAD, hop-by-hop headers, an unread body, streaming, cancelling,
// graceful shutdown.
// TestConformance runs the suite with a connection per request and, as
// the process app sends requests, over kept connections (KeepAliveVar).
func TestConformance(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "close", true: "keepalive"}[keep], func(t *testing.T) {
			conformance(t, keep)
		})
	}
}

func conformance(t *testing.T, keep bool) {
	gatewaytest.Run(t, func(t *testing.T, h http.Handler, log *slog.Logger) gatewaytest.Target {
		s := &Server{Handler: h, Logger: log, ReadTimeout: 10 * time.Second}
		addr := gatewaytest.Serve(t, s)
		tr := &Transport{Addr: addr, KeepAlive: keep}
		t.Cleanup(func() { tr.Close() })
		return gatewaytest.Target{
			Client:   tr,
			Addr:     addr,
			Shutdown: s.Shutdown,
			Raw: func(t *testing.T, vars []string, body []byte) []byte {
				return gatewaytest.Exchange(t, addr, append(wiretest.UWSGIPacket(0, 0, vars...), body...))
			},
		}
	})
}

// BenchmarkServerRoundTrip: a connection per request, as nginx sends
// uwsgi, against net/http serving the same handler with Connection: close.
func BenchmarkServerRoundTrip(b *testing.B) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, World!\n")
	})
	run := func(b *testing.B, serve func(net.Listener), wire []byte) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		go serve(l)
		buf := make([]byte, 4096)
		b.ReportAllocs()
		for b.Loop() {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			c.Write(wire)
			for {
				if _, err := c.Read(buf); err != nil {
					break
				}
			}
			c.Close()
		}
	}
	b.Run("gopaste-uwsgi", func(b *testing.B) {
		wire, _ := AppendPacket(nil, 0, 0, benchVars())
		s := &Server{Handler: hello, Logger: quiet()}
		run(b, func(l net.Listener) { s.Serve(l) }, wire)
		s.Close()
	})
	b.Run("net-http", func(b *testing.B) {
		s := &http.Server{Handler: hello}
		run(b, func(l net.Listener) { s.Serve(l) }, []byte("GET /hello?a=1&b=2 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nConnection: close\r\n\r\n"))
		s.Close()
	})
}

// TestServerHeaderTimeout: a connection that sends nothing, or part of its
// vars, is closed (issue 12: no default read timeout).
func TestServerHeaderTimeout(t *testing.T) {
	s := &Server{Handler: http.NotFoundHandler(), Logger: slog.New(slog.DiscardHandler), HeaderTimeout: 200 * time.Millisecond}
	addr := gatewaytest.Serve(t, s)
	gatewaytest.ExpectClosed(t, addr, nil, 200*time.Millisecond)
	gatewaytest.ExpectClosed(t, addr, []byte{0, 100, 0, 0, 4, 0, 'H'}, 200*time.Millisecond)
}
