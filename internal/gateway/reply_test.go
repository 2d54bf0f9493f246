package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readReply(t *testing.T, method, reply string, max int) (*http.Response, string, error) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://x/", nil)
	res, err := ReadReply(bufio.NewReaderSize(strings.NewReader(reply), 64), req, max)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res, string(b), err
	}
	return res, string(b), nil
}

func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		name, method, reply string
		status              string
		header              http.Header
		clen                int64
		body                string
	}{
		{name: "cgi status", reply: "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope",
			status: "404 Not Found", header: http.Header{"Content-Type": {"text/plain"}}, clen: -1, body: "nope"},
		{name: "status without reason", reply: "Status: 503\n\n",
			status: "503 Service Unavailable", header: http.Header{}, clen: -1},
		{name: "own reason kept", reply: "Status: 299 Fine Thanks\n\n",
			status: "299 Fine Thanks", header: http.Header{}, clen: -1},
		{name: "no status", reply: "X-A: b\n\nhi",
			status: "200 OK", header: http.Header{"X-A": {"b"}}, clen: -1, body: "hi"},
		{name: "location alone is 302", reply: "Location: http://e/x\r\n\r\n",
			status: "302 Found", header: http.Header{"Location": {"http://e/x"}}, clen: -1},
		{name: "local redirect is 302", reply: "Location: /elsewhere?a=1\n\n",
			status: "302 Found", header: http.Header{"Location": {"/elsewhere?a=1"}}, clen: -1},
		{name: "status wins over location", reply: "Status: 301 Moved\nLocation: /x\n\n",
			status: "301 Moved", header: http.Header{"Location": {"/x"}}, clen: -1},
		{name: "http status line", reply: "HTTP/1.1 201 Created\r\nX-A: b\r\n\r\nmade",
			status: "201 Created", header: http.Header{"X-A": {"b"}}, clen: -1, body: "made"},
		{name: "interim heads skipped", reply: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n\r\nok",
			status: "200 OK", header: http.Header{}, clen: -1, body: "ok"},
		{name: "content-length limits the body", reply: "Content-Length: 2\r\n\r\nokmore",
			status: "200 OK", header: http.Header{"Content-Length": {"2"}}, clen: 2, body: "ok"},
		{name: "repeated equal content-length", reply: "Content-Length: 2\r\nContent-Length: 2\r\n\r\nok",
			status: "200 OK", header: http.Header{"Content-Length": {"2"}}, clen: 2, body: "ok"},
		{name: "hop-by-hop removed", reply: "Connection: close, X-Private\nX-Private: 1\nKeep-Alive: 5\nUpgrade: h2c\nTe: trailers\nTrailer: X\nProxy-Connection: x\nX-Kept: 2\n\n",
			status: "200 OK", header: http.Header{"X-Kept": {"2"}}, clen: -1},
		{name: "chunked http reply decoded", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			status: "200 OK", header: http.Header{}, clen: -1, body: "ok"},
		{name: "cgi transfer-encoding ignored", reply: "Transfer-Encoding: chunked\n\n2\r\nok",
			status: "200 OK", header: http.Header{}, clen: -1, body: "2\r\nok"},
		{name: "head has no body", method: "HEAD", reply: "Content-Length: 5\n\nhello",
			status: "200 OK", header: http.Header{"Content-Length": {"5"}}, clen: 5},
		{name: "204 has no body", reply: "Status: 204\n\nstray",
			status: "204 No Content", header: http.Header{}, clen: 0},
		{name: "values trimmed", reply: "X-A:   spaced \t\n\n",
			status: "200 OK", header: http.Header{"X-A": {"spaced"}}, clen: -1},
		{name: "long line within the limit", reply: "X-Long: " + strings.Repeat("v", 500) + "\n\n",
			status: "200 OK", header: http.Header{"X-Long": {strings.Repeat("v", 500)}}, clen: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			res, body, err := readReply(t, method, tc.reply, 0)
			if err != nil {
				t.Fatalf("ReadReply(%q) = %v", tc.reply, err)
			}
			if res.Status != tc.status || res.ContentLength != tc.clen || body != tc.body {
				t.Errorf("ReadReply(%q) = %q, length %d, body %q; want %q, %d, %q",
					tc.reply, res.Status, res.ContentLength, body, tc.status, tc.clen, tc.body)
			}
			if d := cmp.Diff(tc.header, res.Header); d != "" {
				t.Errorf("header (-want +got):\n%s", d)
			}
		})
	}
}

func TestReadReplyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		max         int
		want        error
	}{
		{"empty", "", 0, ErrNoReply},
		{"status not a number", "Status: abc\n\n", 0, ErrBadReply},
		{"status below 200", "Status: 199 Early\n\n", 0, ErrBadReply},
		{"interim status in cgi form", "Status: 100 Continue\n\n", 0, ErrBadReply},
		{"status of two digits", "Status: 99\n\n", 0, ErrBadReply},
		{"status of four digits", "Status: 1000\n\n", 0, ErrBadReply},
		{"signed status", "Status: +20\n\n", 0, ErrBadReply},
		{"two statuses", "Status: 200\nStatus: 404\n\n", 0, ErrBadReply},
		{"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0, ErrBadReply},
		{"bad version", "HTTP/x 200 OK\r\n\r\n", 0, ErrBadReply},
		{"interim then cgi", "HTTP/1.1 100 Continue\r\n\r\nStatus: 200\r\n\r\n", 0, ErrBadReply},
		{"no colon", "no colon here\r\n\r\n", 0, ErrBadReply},
		{"space before colon", "X-A : b\n\n", 0, ErrBadReply},
		{"folded line", "X-A: b\n c\n\n", 0, ErrBadReply},
		{"NUL in a value", "X-A: a\x00b\n\n", 0, ErrBadReply},
		{"CR in a value", "X-A: a\rb\n\n", 0, ErrBadReply},
		{"bad content-length", "Content-Length: -1\n\n", 0, ErrBadReply},
		{"conflicting content-lengths", "Content-Length: 1\nContent-Length: 2\n\n", 0, ErrBadReply},
		{"ends inside the head", "Status: 200 OK\r\nX-A: b", 0, ErrBadReply},
		{"head over the limit", "X-A: " + strings.Repeat("a", 5000) + "\r\n\r\n", 4096, ErrHeaderTooLarge},
		{"many lines over the limit", strings.Repeat("X-A: b\n", 200) + "\n", 1000, ErrHeaderTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readReply(t, "GET", tc.reply, tc.max)
			if !errors.Is(err, tc.want) {
				t.Errorf("ReadReply(%.40q) = %v, want %v", tc.reply, err, tc.want)
			}
			if errors.Is(err, ErrHeaderTooLarge) && !errors.Is(err, ErrBadReply) {
				t.Errorf("%v does not wrap ErrBadReply", err)
			}
		})
	}
}

func TestReadReplyShortBody(t *testing.T) {
	_, body, err := readReply(t, "GET", "Content-Length: 10\n\nshort", 0)
	if !errors.Is(err, io.ErrUnexpectedEOF) || body != "short" {
		t.Errorf("body %q, err %v; want \"short\", io.ErrUnexpectedEOF", body, err)
	}
}

// TestReadReplyLimitExact: a head of exactly max bytes passes, one byte
// more does not.
func TestReadReplyLimitExact(t *testing.T) {
	head := "X-A: b\r\n\r\n"
	if _, _, err := readReply(t, "GET", head+"body", len(head)); err != nil {
		t.Errorf("head of %d bytes with max %[1]d: %v", len(head), err)
	}
	if _, _, err := readReply(t, "GET", head, len(head)-1); !errors.Is(err, ErrHeaderTooLarge) {
		t.Errorf("head of %d bytes with max %d: %v, want ErrHeaderTooLarge", len(head), len(head)-1, err)
	}
}

func pipeConn(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); accepted <- c }()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestShortReply(t *testing.T) {
	t.Run("ends within the buffer", func(t *testing.T) {
		c, s := pipeConn(t)
		s.Write([]byte("Status: 200 OK\r\n\r\nhello"))
		s.Close()
		br := bufio.NewReaderSize(c, 4096)
		br.ReadString('\n')
		br.ReadString('\n')
		n, ok := ShortReply(c, br, time.Second)
		if !ok || n != 5 {
			t.Fatalf("ShortReply = %d, %v; want 5, true", n, ok)
		}
		if b, _ := io.ReadAll(br); string(b) != "hello" {
			t.Errorf("body %q", b)
		}
	})
	t.Run("a stream is left to stream", func(t *testing.T) {
		c, s := pipeConn(t)
		s.Write([]byte("first "))
		br := bufio.NewReaderSize(c, 4096)
		if _, ok := ShortReply(c, br, 20*time.Millisecond); ok {
			t.Fatal("an open stream was taken for a complete reply")
		}
		s.Write([]byte("second"))
		s.Close()
		if b, _ := io.ReadAll(br); string(b) != "first second" {
			t.Errorf("bytes lost: %q", b)
		}
	})
	t.Run("longer than the buffer", func(t *testing.T) {
		c, s := pipeConn(t)
		big := strings.Repeat("x", 10000)
		go func() { s.Write([]byte(big)); s.Close() }()
		br := bufio.NewReaderSize(c, 4096)
		if _, ok := ShortReply(c, br, time.Second); ok {
			t.Fatal("a reply larger than the buffer was sized")
		}
		if b, _ := io.ReadAll(br); len(b) != len(big) {
			t.Errorf("read %d of %d bytes", len(b), len(big))
		}
	})
}

// exchangeConn returns a loopback connection whose peer runs serve.
func exchangeConn(t *testing.T, serve func(c net.Conn)) net.Conn {
	t.Helper()
	c, s := pipeConn(t)
	go func() {
		defer s.Close()
		serve(s)
	}()
	return c
}

func TestExchange(t *testing.T) {
	t.Run("short reply gets a length", func(t *testing.T) {
		c := exchangeConn(t, func(s net.Conn) {
			io.ReadFull(s, make([]byte, 4))
			io.WriteString(s, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello")
		})
		req, _ := http.NewRequest("GET", "http://x/", nil)
		res, err := Exchange{}.RoundTrip(c, req, []byte("head"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.ContentLength != 5 || string(b) != "hello" {
			t.Errorf("%d, length %d, body %q", res.StatusCode, res.ContentLength, b)
		}
	})
	t.Run("chunked reply is not sized by its raw bytes", func(t *testing.T) {
		c := exchangeConn(t, func(s net.Conn) {
			io.ReadFull(s, make([]byte, 4))
			io.WriteString(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
		})
		req, _ := http.NewRequest("GET", "http://x/", nil)
		res, err := Exchange{}.RoundTrip(c, req, []byte("head"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || string(b) != "hello" || res.ContentLength != -1 {
			t.Errorf("body %q (%v), length %d; want \"hello\", -1", b, err, res.ContentLength)
		}
	})
	t.Run("reply before the body is read", func(t *testing.T) {
		// The backend answers after the head and never reads the 4 MiB
		// body: the exchange must not stall writing it.
		hold := make(chan struct{})
		defer close(hold)
		c := exchangeConn(t, func(s net.Conn) {
			io.ReadFull(s, make([]byte, 4))
			io.WriteString(s, "Status: 413 Too Big\r\n\r\n")
			<-hold // a close with unread input resets: stay open until the reply is read
		})
		body := strings.Repeat("x", 4<<20)
		req, _ := http.NewRequest("POST", "http://x/", strings.NewReader(body))
		res, err := Exchange{}.RoundTrip(c, req, []byte("head"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 413 {
			t.Errorf("status %d", res.StatusCode)
		}
	})
	t.Run("body sent in full", func(t *testing.T) {
		got := make(chan string, 1)
		c := exchangeConn(t, func(s net.Conn) {
			b := make([]byte, 4+11)
			io.ReadFull(s, b)
			got <- string(b)
			io.WriteString(s, "\n")
		})
		req, _ := http.NewRequest("POST", "http://x/", strings.NewReader("hello worldand more"))
		req.ContentLength = 11
		res, err := Exchange{}.RoundTrip(c, req, []byte("head"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if g := <-got; g != "headhello world" {
			t.Errorf("backend read %q", g)
		}
	})
	t.Run("no reply", func(t *testing.T) {
		c := exchangeConn(t, func(s net.Conn) { io.ReadFull(s, make([]byte, 4)) })
		req, _ := http.NewRequest("GET", "http://x/", nil)
		if _, err := (Exchange{}).RoundTrip(c, req, []byte("head")); !errors.Is(err, ErrNoReply) {
			t.Errorf("err = %v, want ErrNoReply", err)
		}
	})
	t.Run("response header timeout", func(t *testing.T) {
		hold := make(chan struct{})
		defer close(hold)
		c := exchangeConn(t, func(s net.Conn) { <-hold })
		req, _ := http.NewRequest("GET", "http://x/", nil)
		_, err := Exchange{ResponseHeaderTimeout: 20 * time.Millisecond}.RoundTrip(c, req, []byte("head"))
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("err = %v, want a timeout", err)
		}
	})
	t.Run("cancel closes the connection", func(t *testing.T) {
		hold := make(chan struct{})
		defer close(hold)
		c := exchangeConn(t, func(s net.Conn) { <-hold })
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/", nil)
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := Exchange{}.RoundTrip(c, req, []byte("head"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("body closes the connection", func(t *testing.T) {
		closed := make(chan struct{})
		c := exchangeConn(t, func(s net.Conn) {
			io.ReadFull(s, make([]byte, 4))
			io.WriteString(s, "\r\nstreaming")
			io.Copy(io.Discard, s) // until the client closes
			close(closed)
		})
		req, _ := http.NewRequest("GET", "http://x/", nil)
		res, err := Exchange{}.RoundTrip(c, req, []byte("head"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection is still open after Body.Close")
		}
	})
}

// TestExchangeBrokenBodyIssue12: a request body that ends before its
// Content-Length (a client that half-closed after 5 of 10 bytes) closes
// the backend connection, so a backend waiting for the rest does not hold
// the exchange forever; the error says the body failed, not the backend.
func TestExchangeBrokenBodyIssue12(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	c := exchangeConn(t, func(s net.Conn) {
		io.ReadFull(s, make([]byte, 4+10)) // waits for all 10 bytes
		<-hold
	})
	req, _ := http.NewRequest("POST", "http://x/", io.NopCloser(io.MultiReader(strings.NewReader("hello"), iotest.ErrReader(io.ErrUnexpectedEOF))))
	req.ContentLength = 10
	done := make(chan error, 1)
	go func() {
		res, err := Exchange{}.RoundTrip(c, req, []byte("head"))
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrRequestBody) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want ErrRequestBody wrapping io.ErrUnexpectedEOF", err)
		}
	case <-time.After(5 * time.Second):
		c.Close()
		t.Fatal("RoundTrip still waiting for a reply 5s after the body failed")
	}
	t.Run("body shorter than its length", func(t *testing.T) {
		c := exchangeConn(t, func(s net.Conn) {
			io.ReadFull(s, make([]byte, 4+10))
			<-hold
		})
		req, _ := http.NewRequest("POST", "http://x/", strings.NewReader("hello"))
		req.ContentLength = 10
		c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err := Exchange{}.RoundTrip(c, req, []byte("head"))
		if !errors.Is(err, ErrRequestBody) {
			t.Errorf("err = %v, want ErrRequestBody", err)
		}
	})
}

// BenchmarkReadReply reads the head and body of the reply a Python
// worker sends to a hello-world WSGI app on a kept connection.
func BenchmarkReadReply(b *testing.B) {
	const reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n" +
		"Connection: keep-alive\r\n\r\nHello, World!\n"
	req, _ := http.NewRequest("GET", "http://x/", nil)
	sr := strings.NewReader(reply)
	br := bufio.NewReaderSize(sr, 4096)
	b.ReportAllocs()
	for b.Loop() {
		sr.Reset(reply)
		br.Reset(sr)
		res, keep, err := parseReply(br, req, 0, false)
		if err != nil || !keep {
			b.Fatal(err, keep)
		}
		io.Copy(io.Discard, res.Body)
	}
}
