package fastcgi

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/wiretest"
)

// phpHelloRecords is what PHP-FPM sends for the bench's hello.php: the head and
// body in one STDOUT record, the empty STDOUT record, END_REQUEST.
func phpHelloRecords() []byte {
	out := []byte("X-Powered-By: PHP/8.2\r\nContent-type: text/html; charset=UTF-8\r\n\r\nHello, World!\n")
	b := AppendRecord(nil, TypeStdout, 1, out)
	b = AppendRecord(b, TypeStdout, 1, nil)
	return AppendEndRequest(b, 1, EndRequest{})
}

// serveKept answers every request on c with reply, keeping the
// connection, and allocates nothing per request, so that a benchmark
// counts the client's allocations.
func serveKept(c net.Conn, reply []byte) {
	br := bufio.NewReaderSize(c, 16<<10)
	var hb [HeaderSize]byte
	for {
		// A request ends with its empty STDIN record.
		for {
			if _, err := io.ReadFull(br, hb[:]); err != nil {
				return
			}
			h := ParseHeader(hb[:])
			if _, err := br.Discard(int(h.ContentLength) + int(h.PaddingLength)); err != nil {
				return
			}
			if h.Type == TypeStdin && h.ContentLength == 0 {
				break
			}
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
	}
}

// BenchmarkTransport is one GET through the Transport as the php bench
// scenario sends it (fastcgi_proxy with document_root and split_path),
// to a backend on a kept connection answering as PHP-FPM does: building
// the variables and records, the round trip, the reply's head and body.
// "wrk" carries only a Host header, "browser" what a browser sends.
func BenchmarkTransport(b *testing.B) {
	reply := phpHelloRecords()
	be := wiretest.Serve(b, "tcp", func(c net.Conn) { serveKept(c, reply) })
	headers := map[string]http.Header{
		"wrk":     {},
		"browser": wiretest.BrowserHeader(),
	}
	for _, name := range []string{"wrk", "browser"} {
		b.Run(name, func(b *testing.B) {
			tr := &Transport{Addr: be.Addr(), MaxConns: 1, Logger: quiet(),
				Script: Script{DocumentRoot: "/srv/www", SplitPath: []string{".php"}}}
			defer tr.Close()
			req, _ := http.NewRequestWithContext(context.WithoutCancel(context.Background()), "GET", "http://localhost:8080/hello.php", nil)
			req.RequestURI = "/hello.php"
			req.RemoteAddr = "127.0.0.1:51234"
			req.Header = headers[name]
			buf := make([]byte, 4096)
			b.ReportAllocs()
			for b.Loop() {
				res, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := res.Body.Read(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				res.Body.Close()
			}
		})
	}
}

// TestAppendParams: the PARAMS stream encoded in place is the one
// AppendPairs and AppendStream give, for a stream in one record, one of
// exactly MaxContent bytes and one cut into several.
func TestAppendParams(t *testing.T) {
	// The pairs take 10 bytes more than the long value: MaxContent-10
	// fills one record, MaxContent-9 takes two.
	for _, size := range []int{-1, 0, 10, MaxContent - 10, MaxContent - 9, 200000} {
		var vars []cgivars.Pair
		var pairs []Pair
		if size >= 0 {
			v := strings.Repeat("v", size)
			vars = []cgivars.Pair{{Name: "A", Value: "1"}, {Name: "K", Value: v}}
			pairs = []Pair{{Name: "A", Value: "1"}, {Name: "K", Value: v}}
		}
		prefix := AppendBeginRequest(nil, 7, BeginRequest{Role: RoleResponder})
		want := AppendStream(bytes.Clone(prefix), TypeParams, 7, AppendPairs(nil, pairs))
		want = AppendRecord(want, TypeParams, 7, nil)
		got := appendParams(bytes.Clone(prefix), 7, vars)
		if !bytes.Equal(got, want) {
			t.Errorf("size %d: %d bytes, want %d", size, len(got), len(want))
		}
	}
}

// TestUnderRoot: underRoot is filepath.Join for the scripts Split gives,
// under clean and unclean roots.
func TestUnderRoot(t *testing.T) {
	s := Script{Index: "index.php", SplitPath: []string{".php"}}
	for _, root := range []string{"/srv/www", "/", "", "srv", "/srv/www/", "/a/../b", "./x", "/srv//www"} {
		for _, p := range []string{"", "/", "/a.php", "/a.php/b", "/../x.php", "//a//b.php/c", "/dir/", "x.php", "/a/./b/../c.php"} {
			script, _, err := s.Split(p)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := underRoot(root, script), filepath.Join(root, script); got != want {
				t.Errorf("underRoot(%q, %q) = %q, want %q", root, script, got, want)
			}
		}
		s.Index = ""
	}
}
