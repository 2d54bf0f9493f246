package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawExchange sends req on a new connection to addr and reads responses
// until the server closes it (closed) or is silent for 300ms.
func rawExchange(t *testing.T, addr, req string) (statuses []int, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return statuses, false
			}
			return statuses, true
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	}
}

// TestHTTP1FramingIssue12: what net/http lets through of HTTP/1 framing
// and request targets is refused or closed after (server/http1.go).
func TestHTTP1FramingIssue12(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	addr := start(t, Options{Protocol: "http"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	}))
	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct {
		name     string
		req      string
		statuses []int
		closed   bool
	}{
		{"CL.TE closes after", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, []int{200}, true},
		{"TE.CL closes after", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\ncontent-LENGTH: 3\r\n\r\n0\r\n\r\n" + smuggled, []int{200}, true},
		{"chunked alone keeps the connection", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", []int{200, 200}, false},
		{"Content-Length then chunked keeps it", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiPOST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n", []int{200, 200, 200}, false},
		{"chunked then CL.TE closes", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, []int{200}, true},
		{"HTTP/1.0 with Transfer-Encoding refused", "POST /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n" + smuggled, []int{400}, true},
		{"HTTP/1.0 with Transfer-Encoding and Content-Length refused", "POST /a HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 5\r\nTransfer-encoding: chunked\r\n\r\n0\r\n\r\n", []int{400}, true},
		{"HTTP/1.0 keep-alive closed after", "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + "GET /smuggled HTTP/1.0\r\n\r\n", []int{200}, true},
		{"HTTP/1.0 after HTTP/1.1 refused", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.0\r\nContent-Length: 0\r\n\r\n", []int{200, 400}, true},
		{"GET * refused", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}, true},
		{"OPTIONS * answered", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", []int{200}, false},
		{"authority-form GET refused", "GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}, true},
		{"absolute-form GET served", "GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", []int{200}, false},
		{"trailer name with a space refused", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX : y\r\n\r\n", []int{400}, false},
		// net/http closes after a body that failed; the check of the
		// trailer must leave it the body it looks at.
		{"broken chunked body still closes", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: " + strings.Repeat("a", 8<<10) + "\r\n\r\n" + smuggled, []int{400}, true},
		{"trailer served", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: y\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", []int{200, 200}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			statuses, closed := rawExchange(t, addr, tc.req)
			if !slices.Equal(statuses, tc.statuses) || closed != tc.closed {
				t.Errorf("statuses %v, closed %v; want %v, %v", statuses, closed, tc.statuses, tc.closed)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		if p == "/smuggled" {
			t.Errorf("the smuggled request was served")
		}
	}
}

// TestHeadConnScan: Content-Length lines are counted whatever their case
// and wherever reads split them.
func TestHeadConnScan(t *testing.T) {
	const in = "POST / HTTP/1.1\r\nContent-Type: x\r\nContent-Length: 5\r\n\r\nhelloPOST / HTTP/1.1\nCONTENT-LENGTH:0\r\nX-Content-Length: 1\r\n\r\n"
	for split := 1; split < len(in); split++ {
		var c headConn
		c.scan([]byte(in[:split]))
		c.scan([]byte(in[split:]))
		if n := c.clLines.Load(); n != 2 {
			t.Fatalf("split at %d: %d lines, want 2", split, n)
		}
	}
}

// TestHeadConnKeepsHTTP10Head: the head of a first HTTP/1.0 request is
// kept whole however it arrives; an HTTP/1.1 one keeps nothing.
func TestHeadConnKeepsHTTP10Head(t *testing.T) {
	const head = "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
	for split := 1; split < len(head); split++ {
		c := &headConn{}
		c.keep([]byte(head[:split]))
		if !c.done.Load() {
			c.keep([]byte(head[split:] + "0\r\n\r\n"))
		}
		h, is10, tooBig := c.firstHead10()
		if string(h) != head || !is10 || tooBig {
			t.Fatalf("split at %d: head %q, is10 %v, tooBig %v", split, h, is10, tooBig)
		}
	}
	c := &headConn{}
	c.keep([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if h, is10, _ := c.firstHead10(); h != nil || is10 || !c.done.Load() || c.buf != nil {
		t.Errorf("HTTP/1.1: head %q, is10 %v, done %v", h, is10, c.done.Load())
	}
	c = &headConn{}
	c.keep([]byte("GET / HTTP/1.0\r\nX: " + strings.Repeat("a", maxHead10)))
	if _, _, tooBig := c.firstHead10(); !tooBig {
		t.Error("a head over maxHead10 is not flagged")
	}
}

// BenchmarkHeadConnScan is what headConn adds to every byte a connection
// reads (request bodies included): the Content-Length line count.
func BenchmarkHeadConnScan(b *testing.B) {
	body := []byte(strings.Repeat("some text of a body, a line of it\r\n", 1<<15)) // 1.1 MB, a newline every 35 bytes
	b.SetBytes(int64(len(body)))
	var c headConn
	for b.Loop() {
		for p := body; len(p) > 0; p = p[min(len(p), 4096):] {
			c.scan(p[:min(len(p), 4096)])
		}
	}
}

// BenchmarkGuardHTTP1 is what guardHTTP1 adds to a request: the target
// checks and the connection's counters.
func BenchmarkGuardHTTP1(b *testing.B) {
	h := guardHTTP1(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	hc := &headConn{}
	hc.done.Store(true)
	r := httptest.NewRequest("POST", "/x", strings.NewReader("hello"))
	r.Header.Set("Content-Length", "5")
	r = r.WithContext(context.WithValue(r.Context(), headConnKey{}, hc))
	w := httptest.NewRecorder()
	for b.Loop() {
		hc.requests.Store(0)
		h.ServeHTTP(w, r)
	}
}
