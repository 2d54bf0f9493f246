package uwsgi

import (
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/internal/wiretest"
)

var send = wiretest.Send

func packet(m1 uint8, vars ...string) []byte { return wiretest.UWSGIPacket(m1, 0, vars...) }

func badCases() []peer.BadInput {
	huge := make([]byte, 4)
	binary.LittleEndian.PutUint16(huge[1:], 65535)
	return []peer.BadInput{
		{Name: "empty", Send: func(net.Conn) {}},
		{Name: "one byte", Send: send([]byte{0})},
		{Name: "size past end", Send: send([]byte{0, 0x10, 0, 0, 1, 0, 'A'})},
		{Name: "huge size, no block", Send: send(huge)},
		{Name: "name length past block", Send: send([]byte{0, 3, 0, 0, 9, 0, 'A'})},
		{Name: "value missing", Send: send([]byte{0, 3, 0, 0, 1, 0, 'A'})},
		{Name: "unknown modifier", Send: send(packet(5, "REQUEST_METHOD", "GET"))},
		{Name: "no method", Send: send(packet(0, "PATH_INFO", "/"))},
		{Name: "NUL in value", Send: send(packet(0, "REQUEST_METHOD", "GET", "PATH_INFO", "/a\x00b"))},
		{Name: "CRLF in header", Send: send(packet(0, "REQUEST_METHOD", "GET", "HTTP_X", "a\r\nSet-Cookie: x"))},
		{Name: "bad content length", Send: send(packet(0, "REQUEST_METHOD", "POST", "CONTENT_LENGTH", "-5"))},
		{Name: "oversized header", Send: send(packet(0, "REQUEST_METHOD", "GET", "HTTP_COOKIE", strings.Repeat("c", 60000)))},
		{Name: "wrong protocol", Send: send([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))},
		{Name: "fastcgi record", Send: send([]byte{1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0})},
		{Name: "stops mid-body", Send: send(append(packet(0, "REQUEST_METHOD", "POST", "CONTENT_LENGTH", "100000"), "only this"...))},
		{Name: "stops mid-body, resets", Send: func(c net.Conn) {
			c.Write(append(packet(0, "REQUEST_METHOD", "POST", "CONTENT_LENGTH", "100000"), "only this"...))
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}},
	}
}

func TestBadInput(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}), func(s *Server) { s.MaxVarsBytes = 8192 })
	peer.CheckBadInput(t, addr, 10000, badCases())
	// Still serving.
	reply := rawRequest(t, addr, []Var{{Name: "REQUEST_METHOD", Value: "GET"}}, "")
	if !strings.HasPrefix(reply, "HTTP/1.1 200 OK") {
		t.Errorf("after the bad input: %q", reply)
	}
}
