package cgi

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadHeaders feeds script output to the CGI header parser: it must
// not panic, must respect its size limit, and what it accepts must hold
// only valid header names, no CR or NUL in values, and a real status.
func FuzzReadHeaders(f *testing.F) {
	for _, s := range []string{
		"Content-Type: text/plain\n\nbody",
		"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\n",
		"Location: /x\n\n",
		"Status: 301\nLocation: http://e/\n\n",
		"garbage\n\n",
		"Status: abc\n\n",
		"X: a\x00b\n\n",
		"Content-Type: text/plain\n",
		"\n",
		"",
		"Transfer-Encoding: chunked\nContent-Type: a/b\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const max = 1024
		code, h, err := readHeaders(bufio.NewReaderSize(bytes.NewReader(b), 64), max)
		if err != nil {
			return
		}
		if i := bytes.Index(b, []byte("\n\n")); i < 0 && !bytes.Contains(b, []byte("\n\r\n")) {
			t.Fatalf("accepted %q without an end of headers", b)
		}
		if code < 200 || code > 999 {
			t.Fatalf("status %d from %q", code, b)
		}
		for k, vs := range h {
			if !validToken(k) || hopHeaders[k] || k == "Status" {
				t.Fatalf("header %q from %q", k, b)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("value %q from %q", v, b)
				}
			}
		}
		if code == http.StatusFound && h.Get("Location") == "" && !bytes.Contains(b, []byte("302")) {
			t.Fatalf("302 without Location from %q", b)
		}
	})
}
