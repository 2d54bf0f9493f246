package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// httpReplies are what the recording HTTP backend answers, chosen by the
// request's X-Reply header.
var httpReplies = map[string]string{
	"ok":           "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
	"hop":          "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A: b\r\nX-C: d\r\nConnection: X-A\r\nKeep-Alive: 5\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\n\r\nnop",
	"204":          "HTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n",
	"chunked":      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"trailers":     "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 5\r\n\r\n",
	"trailers-odd": "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 5\r\nX-Other: 1\r\n\r\n",
	"cookies":      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
	"stream":       "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 6\r\n\r\ndata:\n",
	"interim":      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"close":        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
	"http10":       "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"status":       "HTTP/1.1 200 OK\r\nStatus: 500\r\nContent-Length: 2\r\n\r\nok",
	"te-gzip":      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nok",
	"te-twice":     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"cl-plus":      "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
	"cl-conflict":  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
	"cl-and-te":    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	"cgi":          "Status: 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"switch":       "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n",
	"bad-trailer":  "HTTP/1.1 200 OK\r\nTrailer: Content-Length\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"empty":        "",
}

// httpRecorder is an HTTP backend that keeps the head (request line and
// sorted header lines) and body of the last request and answers with
// httpReplies[X-Reply] (default "ok"); it closes the connection after a
// reply without Content-Length or chunked framing and after "empty".
type httpRecorder struct {
	mu   sync.Mutex
	head []string
	body string
}

func (hr *httpRecorder) start(t *testing.T) Backend {
	b, _ := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) { hr.serve(c, br) })
	return b
}

func (hr *httpRecorder) serve(c net.Conn, br *bufio.Reader) {
	for {
		tp := textproto.NewReader(br)
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		var lines []string
		reply, n := "ok", 0
		for {
			l, err := tp.ReadLine()
			if err != nil {
				return
			}
			if l == "" {
				break
			}
			k, v, _ := strings.Cut(l, ":")
			v = strings.TrimSpace(v)
			switch textproto.CanonicalMIMEHeaderKey(k) {
			case "X-Reply":
				reply = v
			case "Content-Length":
				n, _ = strconv.Atoi(v)
			}
			lines = append(lines, l)
		}
		slices.Sort(lines)
		body := make([]byte, n)
		io.ReadFull(br, body)
		hr.mu.Lock()
		hr.head, hr.body = append([]string{line}, lines...), string(body)
		hr.mu.Unlock()
		r := httpReplies[reply]
		io.WriteString(c, r)
		if r == "" || !strings.Contains(r, "Content-Length") && !strings.Contains(r, "chunked") ||
			strings.Contains(r, "close") || strings.HasPrefix(r, "HTTP/1.0") {
			return
		}
	}
}

func (hr *httpRecorder) last() ([]string, string) {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	h, b := hr.head, hr.body
	hr.head, hr.body = nil, ""
	return h, b
}

// oldHTTPProxy is http_proxy as it was before its own client:
// httputil.ReverseProxy with HTTPRewrite over net/http's Transport alone.
func oldHTTPProxy(t *testing.T, b Backend) *Proxy {
	o := Options{Backends: []Backend{b}, Rewrite: HTTPRewrite, Logger: slog.New(slog.DiscardHandler)}
	o.NewTransport = func(b Backend) http.RoundTripper { return NewHTTPTransport(b, o).(*httpTransport).t }
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

type httpExchange struct {
	Head   []string
	Body   string
	Status int
	Header http.Header
	Reply  string
}

// TestHTTPClientAsReverseProxy: http_proxy's direct path over its own
// client sends the backend the same request (line, headers, body) and
// the client the same status, headers, trailers and body as
// httputil.ReverseProxy over net/http's Transport did, for hostile
// requests (hop-by-hop and Connection-named headers, spoofed forwarding
// headers, httpoxy, proxy credentials, underscores, CR/LF/NUL,
// parameter smuggling, Host spoofing) and odd or malformed replies
// (hop-by-hop headers, 1xx, trailers, ambiguous framing, a CGI head, a
// 101 to a request that asked for none). The header order may differ:
// the Transport sorts it.
func TestHTTPClientAsReverseProxy(t *testing.T) {
	rc := &httpRecorder{}
	be := rc.start(t)
	direct, rp := newHTTPProxy(t, Options{Backends: []Backend{be}}), oldHTTPProxy(t, be)

	type request struct {
		method, target, body string
		header               []string // name, value pairs
		http10               bool
		remote               string
	}
	requests := map[string]request{
		"plain":                {method: "GET", target: "/a/b?x=1", header: []string{"Accept", "*/*"}},
		"escaped-path":         {method: "GET", target: "/a%2Fb/c%20d?q=%41"},
		"connection-named":     {method: "GET", target: "/", header: []string{"Connection", "X-Secret, keep-alive", "X-Secret", "1", "Keep-Alive", "300", "X-Kept", "2"}},
		"connection-keepalive": {method: "GET", target: "/", header: []string{"Connection", "Keep-Alive", "Keep-Alive", "300"}},
		"connection-xff":       {method: "GET", target: "/", header: []string{"Connection", "X-Forwarded-For", "X-Forwarded-For", "192.0.2.9"}},
		"connection-ua":        {method: "GET", target: "/", header: []string{"Connection", "User-Agent, Te", "Te", "trailers"}},
		"connection-ctype":     {method: "POST", target: "/", body: "a=1", header: []string{"Connection", "Content-Type, Cookie, Content-Length", "Content-Type", "text/x", "Cookie", "s=1"}},
		"connection-close":     {method: "GET", target: "/", header: []string{"Connection", "close"}},
		"te-trailers":          {method: "GET", target: "/", header: []string{"Te", "trailers, deflate"}},
		"te-other":             {method: "GET", target: "/", header: []string{"Te", "deflate"}},
		"httpoxy":              {method: "GET", target: "/", header: []string{"Proxy", "http://evil:8080"}},
		"proxy-credentials":    {method: "GET", target: "/", header: []string{"Proxy-Authorization", "Basic eDp5", "Proxy-Authenticate", "Basic"}},
		"spoofed-forwarding":   {method: "GET", target: "/", header: []string{"Forwarded", "for=192.0.2.1", "X-Forwarded-Host", "evil", "X-Forwarded-Proto", "https", "X-Forwarded-Prefix", "/evil", "X-Forwarded-For", "192.0.2.2"}},
		"xff-chain":            {method: "GET", target: "/", header: []string{"X-Forwarded-For", "192.0.2.2", "X-Forwarded-For", "192.0.2.3"}},
		"xff-unix-client":      {method: "GET", target: "/", remote: "@", header: []string{"X-Forwarded-For", "192.0.2.2"}},
		"no-host":              {method: "GET", target: "/", http10: true, header: []string{"X-Forwarded-Host", "evil"}},
		"underscore":           {method: "GET", target: "/", header: []string{"X_Auth_User", "admin", "X-Auth-User", "me"}},
		"semicolon-query":      {method: "GET", target: "/?a=1;b=2&c=3"},
		"bad-escape-query":     {method: "GET", target: "/?a=%zz&b=1"},
		"framing-headers":      {method: "POST", target: "/", body: "hello", header: []string{"Transfer-Encoding", "chunked", "Content-Length", "99", "Trailer", "X-T", "Upgrade", "websocket", "Proxy-Connection", "keep-alive"}},
		"body":                 {method: "PUT", target: "/put", body: strings.Repeat("b", 70000)},
		"post-empty":           {method: "POST", target: "/"},
		"delete-empty":         {method: "DELETE", target: "/"},
		"head":                 {method: "HEAD", target: "/"},
		"options":              {method: "OPTIONS", target: "/"},
		"crlf-in-value":        {method: "GET", target: "/", header: []string{"X-A", "a\r\nX-Injected: 1"}},
		"lf-in-value":          {method: "GET", target: "/", header: []string{"X-A", "a\nX-Injected: 1"}},
		"nul-in-value":         {method: "GET", target: "/", header: []string{"X-A", "a\x00b"}},
		"ctl-in-value":         {method: "GET", target: "/", header: []string{"X-A", "a\x01b"}},
		"space-in-name":        {method: "GET", target: "/", header: []string{"X A", "1"}},
		"padded-value":         {method: "GET", target: "/", header: []string{"X-A", "  a \t"}},
		"empty-value":          {method: "GET", target: "/", header: []string{"X-A", ""}},
		"utf8-value":           {method: "GET", target: "/", header: []string{"X-A", "é"}},
		"nul-in-path":          {method: "GET", target: "/x%00.php"},
		"crlf-in-host":         {method: "GET", target: "/", header: []string{"Host", "a\r\nX-Injected: 1"}},
		"utf8-host":            {method: "GET", target: "/", header: []string{"Host", "bücher.example"}},
		"zone-host":            {method: "GET", target: "/", header: []string{"Host", "[fe80::1%25en0]:80"}},
		"no-user-agent":        {method: "GET", target: "/"},
		"empty-user-agent":     {method: "GET", target: "/", header: []string{"User-Agent", ""}},
		"two-user-agents":      {method: "GET", target: "/", header: []string{"User-Agent", "a", "User-Agent", "b"}},
		"idempotency-key":      {method: "POST", target: "/", header: []string{"Idempotency-Key", "k"}},
		"multi-valued-header":  {method: "GET", target: "/", header: []string{"Accept", "a", "Accept", "b", "Cookie", "a=1", "Cookie", "b=2"}},
	}
	for name := range httpReplies {
		requests["reply-"+name] = request{method: "GET", target: "/", header: []string{"X-Reply", name}}
	}
	requests["reply-hop-head"] = request{method: "HEAD", target: "/", header: []string{"X-Reply", "hop"}}
	requests["reply-ok-head"] = request{method: "HEAD", target: "/", header: []string{"X-Reply", "ok"}}
	for name, rq := range requests {
		t.Run(name, func(t *testing.T) {
			run := func(p *Proxy) httpExchange {
				var body io.Reader
				if rq.body != "" {
					body = strings.NewReader(rq.body)
				}
				req := httptest.NewRequest(rq.method, rq.target, body)
				req.Header.Del("User-Agent")
				if !strings.HasSuffix(name, "user-agent") && !strings.HasSuffix(name, "user-agents") {
					req.Header.Set("User-Agent", "test")
				}
				for i := 0; i < len(rq.header); i += 2 {
					if rq.header[i] == "Host" {
						req.Host = rq.header[i+1]
						continue
					}
					req.Header.Add(rq.header[i], rq.header[i+1])
				}
				if rq.http10 {
					req.Proto, req.ProtoMinor, req.Host = "HTTP/1.0", 0, ""
				}
				if rq.remote != "" {
					req.RemoteAddr = rq.remote
				}
				rec := httptest.NewRecorder()
				// What a filter in front set stays, the reply's added.
				rec.Header().Add("Set-Cookie", "front=1")
				rec.Header().Add("X-A", "front")
				p.ServeHTTP(rec, req)
				x := httpExchange{Status: rec.Code, Header: rec.Header(), Reply: rec.Body.String()}
				x.Head, x.Body = rc.last()
				return x
			}
			d, r := direct, rp
			if rq.method == "HEAD" {
				// The raw replies carry a body even to HEAD, which the
				// backend sends after the head; arriving late, it would
				// spoil the kept connection for the next subtest, on
				// either path (net/http's Transport too). Their own
				// proxies, so their own connections.
				d, r = newHTTPProxy(t, Options{Backends: []Backend{be}}), oldHTTPProxy(t, be)
			}
			got, want := run(d), run(r)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("http_proxy's client differs from ReverseProxy over net/http (-reverseproxy +client):\n%s", d)
			}
			for _, l := range got.Head {
				for _, bad := range []string{"Proxy:", "Proxy-Authorization:", "X-Secret:", "Forwarded:", "evil", "X_Auth_User:", "Cookie: s=1", "X-Injected", "Go-http-client"} {
					if strings.HasPrefix(l, bad) || bad == "evil" && strings.Contains(l, bad) || bad == "Go-http-client" && strings.Contains(l, bad) {
						t.Errorf("backend saw %q", l)
					}
				}
			}
		})
	}
}

// frontOf serves p on a real server, for what only a connection shows
// (1xx heads, trailers, flushes, aborts, upgrades).
func frontOf(t *testing.T, p http.Handler) *httptest.Server {
	s := httptest.NewServer(p)
	t.Cleanup(s.Close)
	return s
}

// rawBackend serves each connection with serve until the test ends and
// counts the connections.
func rawBackend(t *testing.T, serve func(n int64, c net.Conn, br *bufio.Reader)) (Backend, *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n := conns.Add(1)
			go func() {
				defer c.Close()
				serve(n, c, bufio.NewReader(c))
			}()
		}
	}()
	b, _ := ParseBackend(l.Addr().String())
	return b, &conns
}

// readHead reads a request head and its Content-Length body from br.
func readHead(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, req.Body)
	return req, nil
}

// TestHTTPEarlyHints: a 103 before the 200 reaches the client as a 103
// with its Link header, the 200 follows with its own headers only, and
// the connection is reused after (the framing was not confused).
func TestHTTPEarlyHints(t *testing.T) {
	be, conns := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) {
		for {
			if _, err := readHead(br); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+
				"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: 1\r\n\r\nok")
		}
	})
	front := frontOf(t, newHTTPProxy(t, Options{Backends: []Backend{be}}))
	for i := range 2 {
		var got []string
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			got = append(got, fmt.Sprint(code, " ", h.Get("Link")))
			return nil
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", front.URL, nil)
		res, err := front.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != "ok" || res.Header.Get("X-Final") != "1" || res.Header.Get("Link") != "" {
			t.Errorf("request %d: %d %q %v", i, res.StatusCode, body, res.Header)
		}
		if want := []string{"103 </a.css>; rel=preload"}; !slices.Equal(got, want) {
			t.Errorf("request %d: 1xx heads %q, want %q", i, got, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d backend connections for two requests, want 1", n)
	}
}

// TestHTTPTrailers: a chunked reply's trailers reach the client, as
// through ReverseProxy: announced ones as trailers, others too.
func TestHTTPTrailers(t *testing.T) {
	be, _ := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) {
		for {
			if _, err := readHead(br); err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n"+
				"5\r\nhello\r\n0\r\nX-Sum: 5\r\nX-Other: 1\r\n\r\n")
		}
	})
	for name, p := range map[string]*Proxy{"http": newHTTPProxy(t, Options{Backends: []Backend{be}}), "reverseproxy": oldHTTPProxy(t, be)} {
		t.Run(name, func(t *testing.T) {
			front := frontOf(t, p)
			for range 2 {
				res, err := front.Client().Get(front.URL)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(body) != "hello" || res.Trailer.Get("X-Sum") != "5" || res.Trailer.Get("X-Other") != "1" {
					t.Errorf("body %q, trailer %v, want hello, X-Sum: 5, X-Other: 1", body, res.Trailer)
				}
			}
		})
	}
}

// TestHTTPConnectionReuse: a reply kept alive by HTTP/1.1's default
// leaves its connection for the next request; one saying Connection:
// close, an HTTP/1.0 one, and one whose body the proxy did not read to
// its end do not.
func TestHTTPConnectionReuse(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		conns       int64
	}{
		{"keep-alive", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 1},
		{"close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 3},
		{"http10", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 3},
		{"http10-keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be, conns := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) {
				for {
					if _, err := readHead(br); err != nil {
						return
					}
					io.WriteString(c, tc.reply)
				}
			})
			p := newHTTPProxy(t, Options{Backends: []Backend{be}})
			for range 3 {
				if rec := get(t, p, "GET", "/", nil); rec.Code != 200 || rec.Body.String() != "ok" {
					t.Fatalf("%d %q", rec.Code, rec.Body)
				}
			}
			if n := conns.Load(); n != tc.conns {
				t.Errorf("%d connections for 3 requests, want %d", n, tc.conns)
			}
		})
	}
	t.Run("unread", func(t *testing.T) {
		be, conns := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) {
			for {
				if _, err := readHead(br); err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789")
			}
		})
		rt := NewHTTPTransport(be, Options{})
		for range 2 {
			req, _ := http.NewRequest("GET", "http://x/", nil)
			res, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Read(make([]byte, 3))
			res.Body.Close()
		}
		if n := conns.Load(); n != 2 {
			t.Errorf("%d connections, want 2: a body left unread ends its connection", n)
		}
	})
}

// TestHTTPDeadKeptConnection: a backend that drops a kept connection
// under the next request (it read it, then closed): a GET is sent again
// on a new connection, a POST is not (502), as net/http's Transport does.
func TestHTTPDeadKeptConnection(t *testing.T) {
	be, conns := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		readHead(br) // the second request on the connection dies
	})
	p := newHTTPProxy(t, Options{Backends: []Backend{be}})
	if rec := get(t, p, "GET", "/", nil); rec.Code != 200 {
		t.Fatalf("first GET = %d", rec.Code)
	}
	if rec := get(t, p, "GET", "/", nil); rec.Code != 200 || rec.Body.String() != "ok" {
		t.Errorf("GET on a dying kept connection = %d %q, want 200 ok on a new one", rec.Code, rec.Body)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	for _, body := range []string{"", "x"} {
		if rec := get(t, p, "POST", "/", strings.NewReader(body)); rec.Code != http.StatusBadGateway {
			t.Errorf("POST %q on a dying kept connection = %d, want 502", body, rec.Code)
		}
		get(t, p, "GET", "/", nil) // a kept connection again
	}
}

// TestHTTPClosedIdleConnection: a kept connection the backend closed
// while it was idle (its keep-alive timeout) is found closed before use:
// even a POST goes on a new connection.
func TestHTTPClosedIdleConnection(t *testing.T) {
	be, conns := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		// and close at once, as a server whose keep-alive timeout passed
	})
	p := newHTTPProxy(t, Options{Backends: []Backend{be}})
	for i := range 3 {
		if i > 0 {
			time.Sleep(50 * time.Millisecond) // idle long enough to be asked (gateway.PeekAlive)
		}
		if rec := get(t, p, "POST", "/", strings.NewReader("x")); rec.Code != 200 {
			t.Fatalf("POST %d = %d, want 200 on a new connection", i, rec.Code)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

// TestHTTPEventStream: an event stream's events reach the client as the
// backend sends them, before its end, even with a Content-Length.
func TestHTTPEventStream(t *testing.T) {
	next := make(chan struct{})
	be, _ := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) {
		if _, err := readHead(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 18\r\n\r\ndata: 1\n\n")
		<-next
		io.WriteString(c, "data: 2\n\n")
	})
	front := frontOf(t, newHTTPProxy(t, Options{Backends: []Backend{be}}))
	res, err := front.Client().Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 9)
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != "data: 1\n\n" {
		t.Fatalf("first event = %q, %v before the second was sent", buf, err)
	}
	close(next)
	if rest, _ := io.ReadAll(res.Body); string(rest) != "data: 2\n\n" {
		t.Errorf("rest = %q", rest)
	}
}

// TestHTTPUpgrade: a WebSocket-style upgrade takes ReverseProxy and
// still works: 101, then bytes both ways.
func TestHTTPUpgrade(t *testing.T) {
	be, _ := rawBackend(t, func(_ int64, c net.Conn, br *bufio.Reader) {
		req, err := readHead(br)
		if err != nil {
			return
		}
		if req.Header.Get("Upgrade") != "echo" || !strings.EqualFold(req.Header.Get("Connection"), "upgrade") {
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		io.Copy(c, br)
	})
	front := frontOf(t, newHTTPProxy(t, Options{Backends: []Backend{be}}))
	c, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", res, err)
	}
	io.WriteString(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Errorf("echo = %q, %v", buf, err)
	}
}

// TestHTTPPathChoice: which requests http_proxy serves without
// ReverseProxy.
func TestHTTPPathChoice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []string
		body   io.Reader
		method string
		want   bool
	}{
		{"get", nil, nil, "GET", true},
		{"post", nil, strings.NewReader("x"), "POST", true},
		{"chunked upload", nil, io.MultiReader(strings.NewReader("x")), "POST", false},
		{"websocket", []string{"Connection", "keep-alive, Upgrade", "Upgrade", "websocket"}, nil, "GET", false},
		{"expect", []string{"Expect", "100-continue"}, strings.NewReader("x"), "PUT", false},
		{"connection close", []string{"Connection", "close"}, nil, "GET", true},
	} {
		req := httptest.NewRequest(tc.method, "/", tc.body)
		if _, ok := tc.body.(*strings.Reader); !ok && tc.body != nil {
			req.ContentLength = -1
		}
		for i := 0; i < len(tc.header); i += 2 {
			req.Header.Add(tc.header[i], tc.header[i+1])
		}
		if got := plainHTTP(req); got != tc.want {
			t.Errorf("%s: plainHTTP = %v, want %v", tc.name, got, tc.want)
		}
	}
}
