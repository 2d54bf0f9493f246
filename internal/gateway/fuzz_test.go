package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
