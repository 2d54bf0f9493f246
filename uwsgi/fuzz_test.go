package uwsgi

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
)

func FuzzReadPacket(f *testing.F) {
	for _, tc := range packetCases {
		f.Add([]byte(tc.wire))
	}
	f.Add([]byte("\x00\x05\x00\x00\x01\x00A\x09\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, vars, err := ReadPacket(bufio.NewReader(bytes.NewReader(data)), 0)
		if err != nil {
			return
		}
		// Round trip: what was read encodes to the bytes it came from.
		back, err := AppendPacket(nil, h.Modifier1, h.Modifier2, vars)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(back, data[:HeaderSize+int(h.Size)]) {
			t.Fatalf("round trip %q != %q", back, data[:HeaderSize+int(h.Size)])
		}
		// And the variables never panic the request mapping.
		ps := make([]cgivars.Pair, len(vars))
		for i, v := range vars {
			ps[i] = cgivars.Pair{Name: v.Name, Value: v.Value}
		}
		cgivars.ToRequest(ps, bytes.NewReader(data))
	})
}

// FuzzServerConn feeds arbitrary bytes to the server as one connection:
// it must end (no hang) without panicking.
func FuzzServerConn(f *testing.F) {
	for _, tc := range packetCases {
		f.Add([]byte(tc.wire))
	}
	good, _ := AppendPacket(nil, 0, 0, []Var{{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "3"}, {"PATH_INFO", "/x"}})
	f.Add(append(good, "abc"...))
	s := &Server{Logger: quiet(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			s.serveConn(&fakeConn{r: bytes.NewReader(data)})
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("server hung on %q", data)
		}
	})
}

// fakeConn reads from r and discards writes.
type fakeConn struct {
	r io.Reader
}

func (c *fakeConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *fakeConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *fakeConn) Close() error                     { return nil }
func (c *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9} }
func (c *fakeConn) SetDeadline(time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error { return nil }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
