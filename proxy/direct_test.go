package proxy_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopaste/gopaste/proxy"
	"github.com/gopaste/gopaste/scgi"
)

// replies are what the recording backend answers, chosen by the
// request's X-Reply header.
var replies = map[string]string{
	"cgi":       "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello",
	"hop":       "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A: b\r\nX-C: d\r\nConnection: X-A, close\r\nKeep-Alive: 5\r\nProxy-Authenticate: Basic\r\n\r\nnopEXTRA",
	"204":       "Status: 204 No Content\r\nX-A: b\r\n\r\n",
	"location":  "Location: /elsewhere\r\n\r\n",
	"chunked":   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"cookies":   "Status: 200\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
	"stream":    "Status: 200\r\nContent-Type: text/event-stream\r\nContent-Length: 6\r\n\r\ndata:\n",
	"malformed": "garbage\r\n\r\n",
	"empty":     "",
	"status":    "Status: 99 Bogus\r\n\r\n",
}

// recorder is an SCGI backend that keeps the variables and body of the
// last request and answers with replies[X-Reply] (default "cgi").
type recorder struct {
	mu   sync.Mutex
	vars []string
	body string
}

func (rc *recorder) serve(c net.Conn, br *bufio.Reader, vars []scgi.Var) {
	n, _ := strconv.Atoi(vars[0].Value)
	body := make([]byte, n)
	io.ReadFull(br, body)
	reply := "cgi"
	var seen []string
	for _, v := range vars {
		if v.Name == "REMOTE_PORT" {
			continue
		}
		if v.Name == "HTTP_X_REPLY" {
			reply = v.Value
		}
		seen = append(seen, v.Name+"="+v.Value)
	}
	slices.Sort(seen)
	rc.mu.Lock()
	rc.vars, rc.body = seen, string(body)
	rc.mu.Unlock()
	io.WriteString(c, replies[reply])
}

func (rc *recorder) last() ([]string, string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	v, b := rc.vars, rc.body
	rc.vars, rc.body = nil, ""
	return v, b
}

// exchange is what one request gave: the backend's view and the client's.
type exchange struct {
	Vars   []string
	Body   string
	Status int
	Header http.Header
	Reply  string
}

// TestDirectAsReverseProxy: a gateway proxy serving directly sends the
// backend the same CGI variables and body, and the client the same
// status, headers and body, as the same proxy through
// httputil.ReverseProxy, for hostile requests (hop-by-hop and
// Connection-named headers, spoofed forwarding headers, httpoxy, proxy
// credentials, underscores, CR/LF/NUL, parameter smuggling) and odd
// replies (hop-by-hop headers, 204, a local redirect, chunked, malformed).
// The one difference: ReverseProxy sends a request without a User-Agent
// with an empty one (HTTP_USER_AGENT=""), the direct path sends none, as
// nginx does.
func TestDirectAsReverseProxy(t *testing.T) {
	rc := &recorder{}
	addr := scgiBackend(t, "tcp", "127.0.0.1:0", rc.serve)
	be, err := proxy.ParseBackend(addr)
	if err != nil {
		t.Fatal(err)
	}
	build := func(rewrite bool) *proxy.Proxy {
		o := proxy.Options{
			Backends:      []proxy.Backend{be},
			RequireLength: true,
			Logger:        slog.New(slog.DiscardHandler),
			NewTransport:  func(proxy.Backend) http.RoundTripper { return &scgi.Transport{Addr: addr} },
		}
		if rewrite {
			o.Rewrite = reverseProxyRewrite
		}
		p, err := proxy.New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	direct, rp := build(false), build(true)

	type request struct {
		method, target, body string
		header               []string // name, value pairs
		http10               bool
	}
	requests := map[string]request{
		"plain":                {method: "GET", target: "/a/b?x=1", header: []string{"Accept", "*/*"}},
		"connection-named":     {method: "GET", target: "/", header: []string{"Connection", "X-Secret, keep-alive", "X-Secret", "1", "Keep-Alive", "300", "X-Kept", "2"}},
		"connection-keepalive": {method: "GET", target: "/", header: []string{"Connection", "Keep-Alive", "Keep-Alive", "300"}},
		"connection-xff":       {method: "GET", target: "/", header: []string{"Connection", "X-Forwarded-For", "X-Forwarded-For", "192.0.2.9"}},
		"connection-ctype":     {method: "POST", target: "/", body: "a=1", header: []string{"Connection", "Content-Type, Cookie", "Content-Type", "text/x", "Cookie", "s=1"}},
		"httpoxy":              {method: "GET", target: "/", header: []string{"Proxy", "http://evil:8080"}},
		"proxy-credentials":    {method: "GET", target: "/", header: []string{"Proxy-Authorization", "Basic eDp5", "Proxy-Authenticate", "Basic"}},
		"spoofed-forwarding":   {method: "GET", target: "/", header: []string{"Forwarded", "for=192.0.2.1", "X-Forwarded-Host", "evil", "X-Forwarded-Proto", "https", "X-Forwarded-Prefix", "/evil", "X-Forwarded-For", "192.0.2.2"}},
		"no-host-spoof":        {method: "GET", target: "/", http10: true, header: []string{"X-Forwarded-Host", "evil"}},
		"underscore":           {method: "GET", target: "/", header: []string{"X_Auth_User", "admin", "X-Auth-User", "me"}},
		"semicolon-query":      {method: "GET", target: "/?a=1;b=2&c=3"},
		"bad-escape-query":     {method: "GET", target: "/?a=%zz&b=1"},
		"framing-headers":      {method: "POST", target: "/", body: "hello", header: []string{"Transfer-Encoding", "chunked", "Te", "trailers", "Trailer", "X-T", "Upgrade", "websocket", "Proxy-Connection", "keep-alive"}},
		"body":                 {method: "PUT", target: "/put", body: strings.Repeat("b", 70000)},
		"head":                 {method: "HEAD", target: "/"},
		"crlf-in-value":        {method: "GET", target: "/", header: []string{"X-A", "a\r\nX-Injected: 1"}},
		"nul-in-value":         {method: "GET", target: "/", header: []string{"X-A", "a\x00b"}},
		"nul-in-path":          {method: "GET", target: "/x%00.php"},
		"no-user-agent":        {method: "GET", target: "/"},
		"reply-hop":            {method: "GET", target: "/", header: []string{"X-Reply", "hop"}},
		"reply-hop-head":       {method: "HEAD", target: "/", header: []string{"X-Reply", "hop"}},
		"reply-204":            {method: "GET", target: "/", header: []string{"X-Reply", "204"}},
		"reply-location":       {method: "GET", target: "/", header: []string{"X-Reply", "location"}},
		"reply-chunked":        {method: "GET", target: "/", header: []string{"X-Reply", "chunked"}},
		"reply-cookies":        {method: "GET", target: "/", header: []string{"X-Reply", "cookies"}},
		"reply-event-stream":   {method: "GET", target: "/", header: []string{"X-Reply", "stream"}},
		"reply-malformed":      {method: "GET", target: "/", header: []string{"X-Reply", "malformed"}},
		"reply-empty":          {method: "GET", target: "/", header: []string{"X-Reply", "empty"}},
		"reply-interim":        {method: "GET", target: "/", header: []string{"X-Reply", "status"}},
		"multi-valued-header":  {method: "GET", target: "/", header: []string{"Accept", "a", "Accept", "b", "Cookie", "a=1", "Cookie", "b=2"}},
	}
	for name, rq := range requests {
		t.Run(name, func(t *testing.T) {
			run := func(p *proxy.Proxy) exchange {
				var body io.Reader
				if rq.body != "" {
					body = strings.NewReader(rq.body)
				}
				req := httptest.NewRequest(rq.method, rq.target, body)
				req.Header.Del("User-Agent")
				if name != "no-user-agent" {
					req.Header.Set("User-Agent", "test")
				}
				for i := 0; i < len(rq.header); i += 2 {
					req.Header.Add(rq.header[i], rq.header[i+1])
				}
				if rq.http10 {
					req.Proto, req.ProtoMinor, req.Host = "HTTP/1.0", 0, ""
				}
				rec := httptest.NewRecorder()
				// What a filter in front set stays, the reply's added.
				rec.Header().Add("Set-Cookie", "front=1")
				rec.Header().Add("X-A", "front")
				p.ServeHTTP(rec, req)
				x := exchange{Status: rec.Code, Header: rec.Header(), Reply: rec.Body.String()}
				x.Vars, x.Body = rc.last()
				return x
			}
			got, want := run(direct), run(rp)
			if name == "no-user-agent" {
				want.Vars = slices.DeleteFunc(want.Vars, func(v string) bool { return v == "HTTP_USER_AGENT=" })
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("direct differs from ReverseProxy (-reverseproxy +direct):\n%s", d)
			}
			if got.Status == http.StatusOK && strings.HasPrefix(name, "reply-") && name != "reply-chunked" && name != "reply-cookies" && name != "reply-event-stream" {
				t.Errorf("status 200 for %s", name)
			}
			for _, v := range got.Vars {
				for _, bad := range []string{"HTTP_PROXY=", "HTTP_PROXY_AUTHORIZATION=", "HTTP_X_SECRET=", "HTTP_FORWARDED=", "evil", "HTTP_X_AUTH_USER=admin", "HTTP_COOKIE=s=1"} {
					if strings.Contains(v, bad) {
						t.Errorf("backend saw %s", v)
					}
				}
			}
		})
	}
}

// TestDirectCutReplyAborts: a reply that breaks off before its end ends
// the client's connection (no complete-looking reply), and a
// streamed reply reaches the client piece by piece, through a real
// server in front, as with ReverseProxy.
func TestDirectCutReplyAborts(t *testing.T) {
	second := make(chan struct{})
	addr := scgiBackend(t, "tcp", "127.0.0.1:0", func(c net.Conn, _ *bufio.Reader, vars []scgi.Var) {
		for _, v := range vars {
			if v.Name == "PATH_INFO" && v.Value == "/cut" {
				// Chunked to the client too: only an abort tells it
				// that the reply is not whole.
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
				return
			}
		}
		io.WriteString(c, "Status: 200\r\n\r\nfirst\n")
		<-second
		io.WriteString(c, "second\n")
	})
	be, _ := proxy.ParseBackend(addr)
	p, err := proxy.New(proxy.Options{
		Backends:      []proxy.Backend{be},
		RequireLength: true,
		Logger:        slog.New(slog.DiscardHandler),
		NewTransport:  func(proxy.Backend) http.RoundTripper { return &scgi.Transport{Addr: addr} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	front := httptest.NewServer(p)
	defer front.Close()

	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(front.URL + "/cut")
	if err == nil {
		b, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		if rerr == nil {
			t.Errorf("cut reply read whole: %d %q", res.StatusCode, b)
		}
	}

	res, err = client.Get(front.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first piece = %q, %v before the second was written", buf, err)
	}
	close(second)
	rest, _ := io.ReadAll(res.Body)
	if string(rest) != "second\n" {
		t.Errorf("rest = %q", rest)
	}
}
