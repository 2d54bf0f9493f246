package fastcgi

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/internal/wiretest"
)

var (
	send = wiretest.Send
	join = slices.Concat[[]byte]
)

func begin(flags uint8) []byte { return wiretest.FCGIBegin(1, wiretest.FCGIResponder, flags) }

func params(kv ...string) []byte {
	return wiretest.FCGIStream(wiretest.FCGIParams, 1, wiretest.FCGIPairs(kv...))
}

func badCases() []peer.BadInput {
	get := params("REQUEST_METHOD", "GET")
	return []peer.BadInput{
		{Name: "empty", Send: func(net.Conn) {}},
		{Name: "one byte", Send: send([]byte{1})},
		{Name: "truncated header", Send: send([]byte{1, 1, 0, 1, 0})},
		{Name: "truncated content", Send: send([]byte{1, 1, 0, 1, 0, 8, 0, 0, 0, 1})},
		{Name: "bad version", Send: send([]byte{2, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0})},
		{Name: "short begin body", Send: send(AppendRecord(nil, TypeBeginRequest, 1, []byte{0, 1}))},
		{Name: "unknown type", Send: send(join(begin(0), AppendRecord(nil, 99, 1, []byte("zz"))))},
		{Name: "unknown management type", Send: send(AppendRecord(nil, 77, 0, nil))},
		{Name: "malformed get values", Send: send(AppendRecord(nil, TypeGetValues, 0, []byte{0x85}))},
		{Name: "malformed pairs", Send: send(join(begin(0), AppendRecord(nil, TypeParams, 1, []byte{0x85, 1}), AppendRecord(nil, TypeParams, 1, nil)))},
		{Name: "pair length overflow", Send: send(join(begin(0), AppendRecord(nil, TypeParams, 1, []byte{0xff, 0xff, 0xff, 0xff, 1, 'a'}), AppendRecord(nil, TypeParams, 1, nil)))},
		{Name: "stdin before params", Send: send(join(begin(0), AppendRecord(nil, TypeStdin, 1, []byte("x")), get))},
		{Name: "records for no request", Send: send(join(AppendRecord(nil, TypeStdin, 5, []byte("x")), AppendRecord(nil, TypeAbortRequest, 6, nil)))},
		{Name: "no method", Send: send(join(begin(0), params("PATH_INFO", "/")))},
		{Name: "NUL in value", Send: send(join(begin(0), params("REQUEST_METHOD", "GET", "PATH_INFO", "/a\x00b")))},
		{Name: "CRLF in header", Send: send(join(begin(0), params("REQUEST_METHOD", "GET", "HTTP_X", "a\r\nb: c")))},
		{Name: "oversized params", Send: send(join(begin(0), params("REQUEST_METHOD", "GET", "HTTP_COOKIE", strings.Repeat("c", 70000))))},
		{Name: "bad content length", Send: send(join(begin(0), params("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "x")))},
		{Name: "wrong protocol", Send: send([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))},
		{Name: "uwsgi packet", Send: send([]byte{0, 5, 0, 0, 1, 0, 'A', 0, 0})},
		{Name: "stops mid-params", Send: send(join(begin(FlagKeepConn), AppendRecord(nil, TypeParams, 1, []byte{1, 1})))},
		{Name: "stops mid-body", Send: send(join(begin(FlagKeepConn), params("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "100000"), AppendRecord(nil, TypeStdin, 1, []byte("part"))))},
		{Name: "stops mid-body, resets", Send: func(c net.Conn) {
			c.Write(join(begin(0), params("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "100000"), AppendRecord(nil, TypeStdin, 1, []byte("part"))))
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}},
		{Name: "abort mid-body", Send: send(join(begin(FlagKeepConn), params("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "10"), AppendRecord(nil, TypeAbortRequest, 1, nil)))},
		{Name: "duplicate begin", Send: send(join(begin(FlagKeepConn), begin(FlagKeepConn), get, AppendRecord(nil, TypeStdin, 1, nil)))},
		{Name: "authorizer role", Send: send(AppendBeginRequest(nil, 1, BeginRequest{Role: RoleAuthorizer}))},
	}
}

func TestBadInput(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}), func(s *Server) { s.MaxParamsBytes = 16 << 10 })
	peer.CheckBadInput(t, addr, 10000, badCases())
	c := dialRaw(t, addr)
	c.send(wireRequest(1, 0, []Pair{{Name: "REQUEST_METHOD", Value: "GET"}}, ""))
	if out, _ := c.reply(1); !strings.HasSuffix(out, "ok") {
		t.Errorf("after the bad input: %q", out)
	}
}
