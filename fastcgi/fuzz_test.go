package fastcgi

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopaste/gopaste/internal/cgivars"
)

func FuzzReader(f *testing.F) {
	f.Add(wireRequest(1, FlagKeepConn, benchPairs(), "body"))
	f.Add(AppendRecord(nil, TypeGetValues, 0, AppendPairs(nil, []Pair{{MaxConnsVar, ""}})))
	f.Add([]byte{1, 6, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := NewReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; i < 1000; i++ {
			if err := rr.Next(); err != nil {
				return
			}
			h := rr.Header
			if len(rr.Content) != int(h.ContentLength) {
				t.Fatalf("content %d bytes, header says %d", len(rr.Content), h.ContentLength)
			}
			// Re-encoding gives the same record, up to padding.
			back := NewReader(bufio.NewReader(bytes.NewReader(AppendRecord(nil, h.Type, h.ID, rr.Content))))
			content := append([]byte(nil), rr.Content...)
			if err := back.Next(); err != nil || back.Header.Type != h.Type || back.Header.ID != h.ID || !bytes.Equal(back.Content, content) {
				t.Fatalf("round trip of %+v: %+v %v", h, back.Header, err)
			}
			switch h.Type {
			case TypeBeginRequest:
				ParseBeginRequest(content)
			case TypeParams, TypeGetValues:
				ParsePairs(content, func(string, string) error { return nil })
			}
		}
	})
}

func FuzzParsePairs(f *testing.F) {
	for _, tc := range pairCases {
		f.Add([]byte(tc.wire))
	}
	f.Add(AppendPairs(nil, benchPairs()))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pairs []Pair
		if err := ParsePairs(data, func(n, v string) error { pairs = append(pairs, Pair{n, v}); return nil }); err != nil {
			return
		}
		// Our encoding is canonical (short lengths when they fit), the
		// input need not be: compare meaning, not bytes.
		var again []Pair
		if err := ParsePairs(AppendPairs(nil, pairs), func(n, v string) error { again = append(again, Pair{n, v}); return nil }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(pairs, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		// The variables never panic the request mapping.
		ps := make([]cgivars.Pair, len(pairs))
		for i, p := range pairs {
			ps[i] = cgivars.Pair{Name: p.Name, Value: p.Value}
		}
		cgivars.ToRequest(ps, bytes.NewReader(nil))
	})
}

// FuzzServerConn feeds arbitrary bytes to the server as one connection:
// it must end (no hang) without panicking.
func FuzzServerConn(f *testing.F) {
	f.Add(wireRequest(1, 0, []Pair{{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "3"}}, "abc"))
	f.Add(wireRequest(1, FlagKeepConn, benchPairs(), ""))
	f.Add(append(wireRequest(1, FlagKeepConn, benchPairs(), ""), wireRequest(2, 0, benchPairs(), "")...))
	f.Add(AppendRecord(nil, TypeGetValues, 0, AppendPairs(nil, []Pair{{MaxConnsVar, ""}})))
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

// fakeConn reads from r, discards writes, and fails reads once closed.
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
