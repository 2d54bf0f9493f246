package scgi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzReadHeaders: any bytes give variables or an error, never a panic or
// an allocation beyond the limit; what is read writes back the same.
func FuzzReadHeaders(f *testing.F) {
	f.Add([]byte(specExample))
	f.Add([]byte("25:CONTENT_LENGTH\x000\x00A\x001\x00A\x002\x00,"))
	f.Add([]byte("0:,"))
	f.Add([]byte("99999999999:"))
	f.Add([]byte("017:CONTENT_LENGTH\x000\x00,"))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		vars, err := ReadHeaders(bufio.NewReader(bytes.NewReader(b)), 4096)
		if err != nil {
			return
		}
		if vars[0].Name != "CONTENT_LENGTH" {
			t.Fatalf("first var %q", vars[0].Name)
		}
		enc, err := AppendHeaders(nil, vars)
		if err != nil {
			if errors.Is(err, ErrNoContentLength) {
				return // a repeated CONTENT_LENGTH: readable, not writable
			}
			t.Fatalf("re-encode %v: %v", vars, err)
		}
		again, err := ReadHeaders(bufio.NewReader(bytes.NewReader(enc)), 1<<20)
		if err != nil {
			t.Fatalf("re-read %q: %v", enc, err)
		}
		want := vars
		if !hasVar(vars, "SCGI") {
			want = append([]Var{vars[0], {"SCGI", "1"}}, vars[1:]...)
		}
		if diff := cmp.Diff(want, again); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

func hasVar(vars []Var, name string) bool {
	for _, v := range vars {
		if v.Name == name {
			return true
		}
	}
	return false
}

// FuzzServerConn feeds one connection's bytes to the server: it must
// answer or close, never panic or hang.
func FuzzServerConn(f *testing.F) {
	f.Add([]byte(specExample))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("48:CONTENT_LENGTH\x005\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00X\x00\x00,ab"))
	f.Add([]byte("70:CONTENT_LENGTH\x000\x00REQUEST_METHOD\x00GET\x00PATH_INFO\x00/a\x00HTTPS\x00on\x00HTTP_X\x00\r\x00,"))
	s := &Server{Handler: echo, Logger: slog.New(slog.DiscardHandler), ReadTimeout: 50 * time.Millisecond, WriteTimeout: 50 * time.Millisecond}
	f.Fuzz(func(t *testing.T, b []byte) {
		client, srv := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.serveConn(srv)
			srv.Close()
		}()
		go func() {
			client.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			client.Write(b)
		}()
		client.SetReadDeadline(time.Now().Add(3 * time.Second))
		reply, _ := io.ReadAll(client)
		client.Close()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("server connection did not finish")
		}
		if len(reply) > 0 && !bytes.HasPrefix(reply, []byte("Status: ")) && !bytes.HasPrefix(reply, []byte("HTTP/1.0 400")) {
			t.Fatalf("reply %q is neither CGI nor an HTTP 400", reply)
		}
	})
}

// fakeConn is a net.Conn reading a fixed reply and discarding writes.
type fakeConn struct {
	net.Conn // nil: methods not overridden panic, which the test would show
	r        io.Reader
}

func (c *fakeConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }

// FuzzTransportReply: any reply gives a response or an error wrapping
// ErrEmptyReply/ErrBadReply, never a panic; a response has a valid status
// and no Status header.
func FuzzTransportReply(f *testing.F) {
	for _, s := range []string{
		"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope",
		"HTTP/1.1 201 Created\r\nX-A: b\r\n\r\nmade",
		"Location: /x\r\n\r\n", "Content-Length: 2\r\n\r\nokmore", "Status: 99\r\n\r\n",
		"HTTP/1.1 200\r\n\r\n", "", "X: " + strings.Repeat("a", 5000) + "\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, _ := http.NewRequest("GET", "http://x/", nil)
		tr := &Transport{Addr: "fuzz", MaxResponseHeaderBytes: 4096,
			Dial: func(_ context.Context, _, _ string) (net.Conn, error) {
				return &fakeConn{r: bytes.NewReader(b)}, nil
			}}
		res, err := tr.RoundTrip(req)
		if err != nil {
			if !errors.Is(err, ErrEmptyReply) && !errors.Is(err, ErrBadReply) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		if res.StatusCode < 200 || res.StatusCode > 999 || res.Header.Get("Status") != "" {
			t.Fatalf("status %d, header %v", res.StatusCode, res.Header)
		}
	})
}
