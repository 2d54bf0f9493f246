package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzAppendRequestHead encodes requests of any method, target, Host
// and header with http_proxy's client and holds the head to net/http's
// own encoding (Request.Write, which its Transport uses) as the
// reference: a head it writes, net/http parses, and it means what
// net/http's encoding of the same request means (method, target, Host,
// headers, body length); a request net/http refuses to write, it leaves
// to net/http (reports false). It must not panic.
func FuzzAppendRequestHead(f *testing.F) {
	f.Add("GET", "/a/b?x=1", "example.com", "X-A", "b", "ua", 0)
	f.Add("POST", "/", "example.com", "Content-Type", "text/plain", "", 5)
	f.Add("PATCH", "/x%2Fy", "[::1]:80", "X-A", "a\r\nX-B: 1", "ua", 0)
	f.Add("GET", "/", "bücher.example", "X_A", " v ", "", 0)
	f.Add("GET", "/?a=%zz", "h", "Te", "trailers", "\x00", 0)
	f.Add("DELETE", "/", "", "Connection", "close", "ua", 0)
	f.Fuzz(func(t *testing.T, method, target, host, key, value, ua string, n int) {
		if n < 0 || n > 64 {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		newReq := func() *http.Request {
			r := &http.Request{Method: method, URL: u, Host: host, Header: http.Header{key: {value}}, ContentLength: int64(n)}
			if ua != "" {
				r.Header["User-Agent"] = []string{ua}
			}
			if n > 0 {
				r.Body = io.NopCloser(strings.NewReader(strings.Repeat("b", n)))
			}
			return r
		}
		head, ok := appendRequestHead(nil, newReq(), "backend:80")
		ref := newReq()
		ref.URL = &url.URL{Scheme: "http", Host: "backend:80", Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery, ForceQuery: u.ForceQuery, Opaque: u.Opaque}
		if _, ok := ref.Header["User-Agent"]; !ok {
			ref.Header["User-Agent"] = []string{""} // as ReverseProxy sends it: no Go default
		}
		var want bytes.Buffer
		werr := ref.Write(&want)
		if !ok {
			return
		}
		if werr != nil {
			t.Fatalf("wrote %q for a request net/http refuses: %v", head, werr)
		}
		got, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(append(head, strings.Repeat("b", n)...))))
		if err != nil {
			t.Fatalf("%q does not parse: %v", head, err)
		}
		exp, err := http.ReadRequest(bufio.NewReader(&want))
		if err != nil {
			t.Fatalf("net/http's %q does not parse: %v", want.String(), err)
		}
		type meaning struct {
			Method, Target, Host string
			Header               http.Header
			Length               int64
		}
		g := meaning{got.Method, got.RequestURI, got.Host, got.Header, got.ContentLength}
		w := meaning{exp.Method, exp.RequestURI, exp.Host, exp.Header, exp.ContentLength}
		if d := cmp.Diff(w, g); d != "" {
			t.Fatalf("%q means otherwise than net/http's %q (-net/http +ours):\n%s", head, want.String(), d)
		}
	})
}
