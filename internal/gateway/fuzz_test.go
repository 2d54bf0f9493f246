package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopaste/gopaste/internal/wiretest"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzReadReply feeds any bytes to the reply parser. It must not panic;
// an error is ErrNoReply or ErrBadReply (the input is all there); the
// head it consumed is within the limit; an accepted reply has a status
// of 200-999, token header names, no hop-by-hop or Status header, no CR
// or NUL in values; and written back in CGI form it reads the same
// (status, headers, body).
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope",
		"HTTP/1.1 201 Created\r\nX-A: b\r\n\r\nmade",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"Location: /x\r\n\r\n", "Location: http://e/\n\n",
		"Content-Length: 2\r\n\r\nokmore", "Status: 99\r\n\r\n",
		"Connection: X-B\nX-B: 1\nX-C: 2\n\n",
		"HTTP/1.1 200\r\n\r\n", "", "\n", "X: " + strings.Repeat("a", 5000) + "\r\n\r\n",
		"Status: 200\nStatus: 200\n\n", "X-A: a\x00b\n\n", "X-A: b\n c\n\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("Content-Length: 5\n\nhello"), true)
	f.Fuzz(func(t *testing.T, b []byte, head bool) {
		const max = 1024
		method := "GET"
		if head {
			method = "HEAD"
		}
		req, _ := http.NewRequest(method, "http://x/", nil)
		cr := &countingReader{r: bytes.NewReader(b)}
		br := bufio.NewReaderSize(cr, 64)
		res, err := ReadReply(br, req, max)
		if err != nil {
			if !errors.Is(err, ErrNoReply) && !errors.Is(err, ErrBadReply) {
				t.Fatalf("ReadReply(%q): unexpected error kind: %v", b, err)
			}
			if errors.Is(err, ErrHeaderTooLarge) && len(b) <= max {
				t.Fatalf("ReadReply(%q): %v, but the input is only %d bytes", b, err, len(b))
			}
			return
		}
		if used := cr.n - br.Buffered(); used > max {
			t.Fatalf("ReadReply(%q) consumed a head of %d bytes, over %d", b, used, max)
		}
		checkReply(t, b, res)
		body, err := io.ReadAll(res.Body)
		if err != nil || head {
			return // a short body or a chunk error: no round trip
		}
		// Written back in CGI form, the reply reads the same.
		var out bytes.Buffer
		fmt.Fprintf(&out, "Status: %s\r\n", res.Status)
		res.Header.Write(&out)
		out.WriteString("\r\n")
		out.Write(body)
		res2, err := ReadReply(bufio.NewReader(&out), req, 0)
		if err != nil {
			t.Fatalf("%q read as %q, %v, written back as %q: %v", b, res.Status, res.Header, out.String(), err)
		}
		body2, err := io.ReadAll(res2.Body)
		if err != nil || res2.Status != res.Status || !bytes.Equal(body2, body) {
			t.Fatalf("round trip of %q: %q %q (%v), want %q %q", b, res2.Status, body2, err, res.Status, body)
		}
		if d := cmp.Diff(res.Header, res2.Header); d != "" {
			t.Fatalf("round trip of %q: header (-first +second):\n%s", b, d)
		}
	})
}

func checkReply(t *testing.T, in []byte, res *http.Response) {
	t.Helper()
	if res.StatusCode < 200 || res.StatusCode > 999 {
		t.Fatalf("ReadReply(%q): status %d", in, res.StatusCode)
	}
	for k, vs := range res.Header {
		if !isToken([]byte(k)) || IsHopByHop(k) || k == "Status" {
			t.Fatalf("ReadReply(%q): header %q", in, k)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("ReadReply(%q): value %q", in, v)
			}
		}
	}
	if res.StatusCode == http.StatusFound && res.Header.Get("Location") == "" && !bytes.Contains(in, []byte("302")) {
		t.Fatalf("ReadReply(%q): 302 without Location", in)
	}
}

// FuzzKeptReply feeds any bytes as the reply to a request that asked to
// keep the connection. It must not panic or hang; the connection is kept
// only for an HTTP/1.1 reply that offers keep-alive, whose body reads
// without error, and that ends exactly where the bytes do (nothing of
// it, nor anything after it, may be left for the next request).
func FuzzKeptReply(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nokmore",
		"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nto the end",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"Status: 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close, keep-alive\r\nContent-Length: 1\r\n\r\n",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, b []byte, head bool) {
		if len(b) > 2048 {
			return // within one read of the connection's buffer
		}
		k := keptExchange(b, head, Exchange{})
		res, err := k.res, k.err
		var bodyErr error
		if err == nil {
			_, bodyErr = io.ReadAll(res.Body)
			res.Body.Close()
		}
		if !k.kept() {
			return
		}
		if err != nil || bodyErr != nil {
			t.Fatalf("%q: kept after an error: %v / %v", b, err, bodyErr)
		}
		// HTTP/1.1 or a later 1.x, which is read as 1.1 (RFC 9110 §2.5).
		if !bytes.HasPrefix(b, []byte("HTTP/1.")) || len(b) < 8 || b[7] < '1' || b[7] > '9' ||
			!bytes.Contains(bytes.ToLower(b), []byte("keep-alive")) {
			t.Fatalf("%q: kept without an HTTP/1.1 keep-alive reply", b)
		}
		if k.leftover() {
			t.Fatalf("%q: kept with bytes left after the reply", b)
		}
	})
}

// kept is one request over a Pool whose only connection reads a reply
// the fuzzer wrote.
type kept struct {
	req  *http.Request
	res  *http.Response
	err  error
	pool *Pool
	conn *wiretest.Conn
}

// keptExchange sends a GET (a HEAD with head) through x over a pool
// whose one connection reads reply.
func keptExchange(reply []byte, head bool, x Exchange) *kept {
	method := "GET"
	if head {
		method = "HEAD"
	}
	k := &kept{conn: wiretest.NewConn(reply)}
	k.pool = &Pool{MaxIdle: 1, Dial: func(context.Context) (net.Conn, error) { return k.conn, nil }}
	k.req, _ = http.NewRequest(method, "http://x/", nil)
	k.res, k.err = x.RoundTripPool(k.pool, k.req, []byte("request"))
	return k
}

// kept reports whether the connection went back to the pool (call it
// once the body is read and closed).
func (k *kept) kept() bool { return k.pool.Idle() == 1 }

// leftover reports whether bytes follow the reply on the kept
// connection, read or not.
func (k *kept) leftover() bool {
	rest, _ := io.ReadAll(k.conn.R)
	k.pool.mu.Lock()
	defer k.pool.mu.Unlock()
	return len(rest) > 0 || k.pool.idle[0].Reader.Buffered() > 0
}
