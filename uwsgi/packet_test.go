package uwsgi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var packetCases = []struct {
	name string
	m1   uint8
	m2   uint8
	vars []Var
	wire string
}{
	{"empty", 0, 0, nil, "\x00\x00\x00\x00"},
	{"one var", 0, 0, []Var{{Name: "A", Value: "bc"}}, "\x00\x07\x00\x00\x01\x00A\x02\x00bc"},
	{"modifiers", 30, 7, []Var{{Name: "PATH_INFO", Value: "/x"}, {Name: "E", Value: ""}},
		"\x1e\x14\x00\x07\x09\x00PATH_INFO\x02\x00/x\x01\x00E\x00\x00"},
	{"long value", 0, 0, []Var{{Name: "K", Value: strings.Repeat("v", 300)}},
		"\x00\x31\x01\x00\x01\x00K\x2c\x01" + strings.Repeat("v", 300)},
}

func TestAppendPacket(t *testing.T) {
	for _, tc := range packetCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendPacket(nil, tc.m1, tc.m2, tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.wire {
				t.Errorf("AppendPacket = %q, want %q", got, tc.wire)
			}
		})
	}
}

func TestReadPacket(t *testing.T) {
	for _, tc := range packetCases {
		t.Run(tc.name, func(t *testing.T) {
			h, vars, err := ReadPacket(bufio.NewReader(strings.NewReader(tc.wire+"body")), 0)
			if err != nil {
				t.Fatal(err)
			}
			if h.Modifier1 != tc.m1 || h.Modifier2 != tc.m2 {
				t.Errorf("modifiers = %d,%d, want %d,%d", h.Modifier1, h.Modifier2, tc.m1, tc.m2)
			}
			if len(tc.vars) == 0 && len(vars) == 0 {
				return
			}
			if diff := cmp.Diff(tc.vars, vars); diff != "" {
				t.Errorf("vars (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVarsTooLarge(t *testing.T) {
	big := []Var{{Name: "A", Value: strings.Repeat("x", 40000)}, {Name: "B", Value: strings.Repeat("y", 30000)}}
	dst := []byte("keep")
	got, err := AppendPacket(dst, 0, 0, big)
	if !errors.Is(err, ErrVarsTooLarge) {
		t.Fatalf("AppendPacket err = %v, want ErrVarsTooLarge", err)
	}
	if string(got) != "keep" {
		t.Errorf("dst changed on error: %q", got)
	}
	// Exactly 65535 bytes fits.
	fit := []Var{{Name: "A", Value: strings.Repeat("x", 65535-4-1)}}
	if _, err := AppendPacket(nil, 0, 0, fit); err != nil {
		t.Errorf("65535-byte block: %v", err)
	}
	// A reader limit is enforced before reading the block.
	wire, _ := AppendPacket(nil, 0, 0, []Var{{Name: "A", Value: strings.Repeat("x", 1000)}})
	r := &countReader{r: bytes.NewReader(wire)}
	if _, _, err := ReadPacket(bufio.NewReaderSize(r, 16), 100); !errors.Is(err, ErrVarsTooLarge) {
		t.Errorf("ReadPacket over limit err = %v", err)
	}
	if r.n > 16 {
		t.Errorf("read %d bytes before refusing", r.n)
	}
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadPacketErrors(t *testing.T) {
	tests := []struct {
		name, wire string
		want       error
	}{
		{"nothing", "", io.EOF},
		{"short header", "\x00\x05", io.ErrUnexpectedEOF},
		{"short block", "\x00\x05\x00\x00\x01\x00", io.ErrUnexpectedEOF},
		{"name past end", "\x00\x03\x00\x00\x05\x00A", ErrMalformedVars},
		{"missing value", "\x00\x03\x00\x00\x01\x00A", ErrMalformedVars},
		{"value past end", "\x00\x05\x00\x00\x01\x00A\x09\x00", ErrMalformedVars},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadPacket(bufio.NewReader(strings.NewReader(tc.wire)), 0)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	vars := benchVars()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendPacket(buf[:0], 0, 0, vars)
	}
}

func BenchmarkReadPacket(b *testing.B) {
	wire, _ := AppendPacket(nil, 0, 0, benchVars())
	rd := bytes.NewReader(wire)
	br := bufio.NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	for b.Loop() {
		rd.Reset(wire)
		br.Reset(rd)
		if _, _, err := ReadPacket(br, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// benchVars is what nginx's uwsgi_params sends for a small GET.
func benchVars() []Var {
	return []Var{
		{Name: "QUERY_STRING", Value: "a=1&b=2"}, {Name: "REQUEST_METHOD", Value: "GET"}, {Name: "CONTENT_TYPE", Value: ""}, {Name: "CONTENT_LENGTH", Value: ""},
		{Name: "REQUEST_URI", Value: "/hello?a=1&b=2"}, {Name: "PATH_INFO", Value: "/hello"}, {Name: "DOCUMENT_ROOT", Value: "/usr/share/nginx/html"},
		{Name: "SERVER_PROTOCOL", Value: "HTTP/1.1"}, {Name: "REQUEST_SCHEME", Value: "http"}, {Name: "REMOTE_ADDR", Value: "127.0.0.1"},
		{Name: "REMOTE_PORT", Value: "51234"}, {Name: "SERVER_PORT", Value: "8080"}, {Name: "SERVER_NAME", Value: "localhost"},
		{Name: "HTTP_HOST", Value: "localhost"}, {Name: "HTTP_USER_AGENT", Value: "curl/7.88.1"}, {Name: "HTTP_ACCEPT", Value: "*/*"},
	}
}
