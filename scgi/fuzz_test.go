package scgi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopaste/gopaste/internal/wiretest"
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
			want = append([]Var{vars[0], {Name: "SCGI", Value: "1"}}, vars[1:]...)
		}
		if diff := cmp.Diff(want, again); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		// And agrees with the netstring written from the spec by hand.
		var kv []string
		for _, v := range want {
			kv = append(kv, v.Name, v.Value)
		}
		if ref := wiretest.Netstring(kv...); !bytes.Equal(enc, ref) {
			t.Fatalf("AppendHeaders %q, spec %q", enc, ref)
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
