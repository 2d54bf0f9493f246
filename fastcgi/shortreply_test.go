package fastcgi

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/wiretest"
)

// A reply without Content-Length that has arrived whole, END_REQUEST
// included, gets one (so a proxy sends it in one write, issue 15); one
// whose end has not arrived, or that ends in an error, stays a stream of
// unknown length. The body is the same either way.
func TestTransportShortReplyLength(t *testing.T) {
	const head = "Content-Type: text/plain\r\n\r\n"
	whole := func(body string) []byte {
		out := AppendRecord(nil, TypeStdout, 1, []byte(head+body[:len(body)/2]))
		out = AppendRecord(out, TypeStderr, 1, []byte("PHP Notice: x\n"))
		out = AppendRecord(out, TypeStdout, 1, []byte(body[len(body)/2:]))
		out = AppendRecord(out, TypeStdout, 1, nil)
		return AppendEndRequest(out, 1, EndRequest{})
	}
	big := strings.Repeat("0123456789abcdef", 512)   // 8 KiB: beyond the 4 KiB stdout buffer
	huge := strings.Repeat("0123456789abcdef", 4096) // 64 KiB: beyond the connection's 16 KiB
	tests := []struct {
		name    string
		writes  [][]byte // written one by one, the next after the client read the head
		body    string
		wantLen int64
		wantErr bool
	}{
		{"whole", [][]byte{whole("Hello, World!\n")}, "Hello, World!\n", 14, false},
		{"whole and large", [][]byte{whole(big)}, big, int64(len(big)), false},
		{"larger than the buffers", [][]byte{whole(huge)}, huge, -1, false},
		{"end later", [][]byte{AppendRecord(nil, TypeStdout, 1, []byte(head+"Hello")),
			AppendEndRequest(AppendRecord(nil, TypeStdout, 1, nil), 1, EndRequest{})}, "Hello", -1, false},
		{"end record cut", func() [][]byte {
			w := whole("Hello")
			return [][]byte{w[:len(w)-3], w[len(w)-3:]}
		}(), "Hello", -1, false},
		{"overloaded", [][]byte{AppendEndRequest(AppendRecord(nil, TypeStdout, 1, []byte(head+"Hello")), 1,
			EndRequest{ProtocolStatus: StatusOverloaded})}, "Hello", -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := make(chan struct{})
			b := wiretest.Serve(t, "tcp", func(c net.Conn) {
				readRequest(c)
				for i, w := range tt.writes {
					if i > 0 {
						<-next
					}
					c.Write(w)
				}
				io.Copy(io.Discard, c)
			})
			tr := &Transport{Addr: b.Addr(), Logger: quiet()}
			defer tr.Close()
			req, _ := http.NewRequest("GET", "http://x/hello.php", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.ContentLength != tt.wantLen {
				t.Errorf("ContentLength = %d, want %d", resp.ContentLength, tt.wantLen)
			}
			close(next)
			body, err := io.ReadAll(resp.Body)
			if string(body) != tt.body || (err != nil) != tt.wantErr || b.Accepted() != 1 {
				t.Errorf("body %d bytes, err %v, over %d connections; want %d bytes, error %v, 1 connection", len(body), err, b.Accepted(), len(tt.body), tt.wantErr)
			}
		})
	}
}
