package gateway

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"slices"
	"testing"
)

// readResponseHTTP reads a final reply from b as net/http does (its
// interim 1xx heads skipped, as its Transport does), with its body and
// whether the connection could carry another request.
func readResponseHTTP(b []byte, req *http.Request) (res *http.Response, body []byte, keep bool, err error) {
	br := bufio.NewReader(bytes.NewReader(b))
	for {
		res, err = http.ReadResponse(br, req)
		if err != nil {
			return nil, nil, false, err
		}
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	body, err = io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, false, err
	}
	return res, body, !res.Close && br.Buffered() == 0, nil
}

// FuzzHTTPReply feeds any bytes as an HTTP/1.x server's reply to
// Exchange.HTTP over a pooled connection, and holds it to net/http's
// reading (the reference): a reply it accepts, net/http accepts with the
// same status, body and trailers; a connection it keeps, net/http would
// keep too, and the reply ends exactly where the bytes do (nothing of it,
// nor anything after it, is left for the next request). It must not
// panic or hang.
func FuzzHTTPReply(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokmore",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
		"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"Status: 200\r\n\r\nok",
		"HTTP/1.1 200 OK\r\n\r\nto the end",
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, b []byte, head bool) {
		if len(b) > 2048 {
			return // within one read of the connection's buffer
		}
		k := keptExchange(b, head, Exchange{HTTP: true})
		res, req := k.res, k.req
		if k.err != nil {
			return
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return
		}
		kept := k.kept()
		want, wantBody, wantKeep, err := readResponseHTTP(b, req)
		if err != nil {
			t.Fatalf("%q: read as %d %q, net/http: %v", b, res.StatusCode, body, err)
		}
		if want.StatusCode != res.StatusCode || !bytes.Equal(wantBody, body) {
			t.Fatalf("%q: read as %d %q, net/http %d %q", b, res.StatusCode, body, want.StatusCode, wantBody)
		}
		for name, vs := range res.Trailer {
			if len(vs) > 0 && !slices.Equal(want.Trailer[name], vs) {
				t.Fatalf("%q: trailer %s %q, net/http %q", b, name, vs, want.Trailer[name])
			}
		}
		if !kept {
			return
		}
		if !wantKeep {
			t.Fatalf("%q: kept, net/http would not", b)
		}
		if k.leftover() {
			t.Fatalf("%q: kept with bytes left after the reply", b)
		}
	})
}
