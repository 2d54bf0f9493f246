package wiretest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestBuilders(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want []byte
	}{
		// The example of the SCGI specification, section 3.
		{"scgi spec example", Netstring("CONTENT_LENGTH", "27", "SCGI", "1", "REQUEST_METHOD", "POST", "REQUEST_URI", "/deepthought"),
			[]byte("70:CONTENT_LENGTH\x0027\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00REQUEST_URI\x00/deepthought\x00,")},
		{"scgi empty", Netstring(), []byte("0:,")},
		{"scgi odd name", Netstring("A"), []byte("3:A\x00\x00,")},
		{"uwsgi", UWSGIPacket(0, 0, "A", "bc"), []byte{0, 7, 0, 0, 1, 0, 'A', 2, 0, 'b', 'c'}},
		{"uwsgi modifiers", UWSGIPacket(5, 9), []byte{5, 0, 0, 9}},
		{"uwsgi 300-byte value", UWSGIPacket(0, 0, "", strings.Repeat("v", 300))[:8], []byte{0, 0x30, 0x01, 0, 0, 0, 0x2c, 0x01}},
		{"fcgi record padded", FCGIRecord(FCGIStdin, 1, []byte("abc")), []byte{1, 5, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0}},
		{"fcgi empty record", FCGIRecord(FCGIParams, 258, nil), []byte{1, 4, 1, 2, 0, 0, 0, 0}},
		{"fcgi begin", FCGIBegin(1, FCGIResponder, FCGIKeepConn), []byte{1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}},
		{"fcgi short pair", FCGIPairs("A", "b"), []byte{1, 1, 'A', 'b'}},
		{"fcgi long value", FCGIPairs("A", strings.Repeat("v", 128))[:6], []byte{1, 0x80, 0, 0, 128, 'A'}},
		{"fcgi stream ends empty", FCGIStream(FCGIStdin, 1, nil), []byte{1, 5, 0, 1, 0, 0, 0, 0}},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestFCGIStreamSplits(t *testing.T) {
	b := FCGIStream(FCGIParams, 1, make([]byte, 70000))
	// 65535 bytes (+1 padding), 4465 bytes (+7 padding), then the empty record.
	want := 8 + 65535 + 1 + 8 + 4465 + 7 + 8
	if len(b) != want {
		t.Fatalf("len = %d, want %d", len(b), want)
	}
	if b[4] != 0xff || b[5] != 0xff {
		t.Errorf("first record length %x%x, want ffff", b[4], b[5])
	}
	req := FCGIRequest(1, 0, "", "REQUEST_METHOD", "GET")
	if !bytes.HasPrefix(req, FCGIBegin(1, FCGIResponder, 0)) || !bytes.HasSuffix(req, FCGIRecord(FCGIStdin, 1, nil)) {
		t.Errorf("request %q: not BEGIN_REQUEST ... empty STDIN", req)
	}
}

func TestConn(t *testing.T) {
	var out bytes.Buffer
	c := &Conn{R: strings.NewReader("in"), W: &out}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "in" {
		t.Errorf("read %q, %v; want \"in\", nil", got, err)
	}
	if n, err := c.Write([]byte("out")); n != 3 || err != nil || out.String() != "out" {
		t.Errorf("write = %d, %v, wrote %q", n, err, out.String())
	}
	d := time.Unix(5, 0)
	c.SetReadDeadline(d)
	if r, w := c.Deadlines(); !r.Equal(d) || !w.IsZero() {
		t.Errorf("deadlines %v %v, want %v and zero", r, w, d)
	}
	if c.RemoteAddr().String() != "127.0.0.1:9" {
		t.Errorf("remote addr %v", c.RemoteAddr())
	}
	if err := c.Close(); err != nil || !c.Closed() {
		t.Fatalf("close = %v, closed %v", err, c.Closed())
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close = %v, want net.ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close = %v, want net.ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second close = %v, want net.ErrClosed", err)
	}
	kept := NewConn(nil)
	kept.Write([]byte("xy"))
	kept.Write([]byte("z"))
	if got := kept.Written(); string(got) != "xyz" {
		t.Errorf("Written = %q, want \"xyz\"", got)
	}
	if _, err := (&Conn{}).Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read with nil R = %v, want io.EOF", err)
	}
}

func TestSend(t *testing.T) {
	var out bytes.Buffer
	Send([]byte("abc"))(&Conn{W: &out})
	if out.String() != "abc" {
		t.Errorf("sent %q", out.String())
	}
}
