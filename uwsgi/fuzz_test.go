package uwsgi

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/wiretest"
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
		// And agrees with the packet written from the spec by hand.
		if ref := wiretest.UWSGIPacket(h.Modifier1, h.Modifier2, flatVars(vars)...); !bytes.Equal(back, ref) {
			t.Fatalf("AppendPacket %q, spec %q", back, ref)
		}
		// And the variables never panic the request mapping.
		ps := make([]cgivars.Pair, len(vars))
		for i, v := range vars {
			ps[i] = cgivars.Pair{Name: v.Name, Value: v.Value}
		}
		cgivars.ToRequest(ps, bytes.NewReader(data))
	})
}

func flatVars(vars []Var) []string {
	var kv []string
	for _, v := range vars {
		kv = append(kv, v.Name, v.Value)
	}
	return kv
}

// FuzzServerConn feeds arbitrary bytes to the server as one connection:
// it must end (no hang) without panicking; what it writes is nothing or an
// HTTP status line, and it is 200 exactly when the bytes start with a
// modifier-0 packet whose variables make a request. (A packet with
// KeepAliveVar may be followed by more requests.)
func FuzzServerConn(f *testing.F) {
	for _, tc := range packetCases {
		f.Add([]byte(tc.wire))
	}
	good, _ := AppendPacket(nil, 0, 0, []Var{{Name: "REQUEST_METHOD", Value: "POST"}, {Name: "CONTENT_LENGTH", Value: "3"}, {Name: "PATH_INFO", Value: "/x"}})
	f.Add(append(good, "abc"...))
	// Two requests on a kept connection (KeepAliveVar), the first with a
	// body its handler reads, then a cut one.
	kept, _ := AppendPacket(nil, 0, 0, []Var{{Name: "REQUEST_METHOD", Value: "POST"}, {Name: "CONTENT_LENGTH", Value: "3"}, {Name: "PATH_INFO", Value: "/x"}, {Name: KeepAliveVar, Value: "1"}})
	kept = append(kept, "abc"...)
	f.Add(append(append(kept, kept...), kept[:7]...))
	s := &Server{Logger: quiet(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := wiretest.NewConn(data)
		done := make(chan struct{})
		go func() {
			s.serveConn(c)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("server hung on %q", data)
		}
		reply := string(c.Written())
		if reply != "" && !statusLine.MatchString(reply) {
			t.Fatalf("reply %q to %q is not an HTTP response", reply, data)
		}
		if valid := validRequest(data); valid != strings.HasPrefix(reply, "HTTP/1.1 200 ") {
			t.Fatalf("request %q (valid %v) got %q", data, valid, reply)
		}
	})
}

var statusLine = regexp.MustCompile(`^HTTP/1\.1 [1-5][0-9][0-9] `)

// validRequest reports whether data starts with a modifier-0 packet whose
// variables cgivars maps to a request: what the server must answer with
// the handler's 200.
func validRequest(data []byte) bool {
	br := bufio.NewReader(bytes.NewReader(data))
	h, vars, err := ReadPacket(br, 0)
	if err != nil || h.Modifier1 != ModifierWSGI {
		return false
	}
	var ps []cgivars.Pair
	for _, v := range vars {
		if v.Name != KeepAliveVar { // the server's, never the request's
			ps = append(ps, cgivars.Pair{Name: v.Name, Value: v.Value})
		}
	}
	_, err = cgivars.ToRequest(ps, br)
	return err == nil
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
