package fastcgi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAppendRecord(t *testing.T) {
	tests := []struct {
		name    string
		typ     RecordType
		id      uint16
		content string
		want    string
	}{
		{"empty", TypeStdin, 1, "", "\x01\x05\x00\x01\x00\x00\x00\x00"},
		{"padded", TypeStdout, 258, "abc", "\x01\x06\x01\x02\x00\x03\x05\x00abc\x00\x00\x00\x00\x00"},
		{"aligned", TypeParams, 1, "12345678", "\x01\x04\x00\x01\x00\x08\x00\x0012345678"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendRecord(nil, tc.typ, tc.id, []byte(tc.content))
			if string(got) != tc.want {
				t.Errorf("AppendRecord = %q, want %q", got, tc.want)
			}
			rr := NewReader(bufio.NewReader(bytes.NewReader(got)))
			if err := rr.Next(); err != nil {
				t.Fatal(err)
			}
			if rr.Header.Type != tc.typ || rr.Header.ID != tc.id || string(rr.Content) != tc.content {
				t.Errorf("read back %+v %q", rr.Header, rr.Content)
			}
			if err := rr.Next(); err != io.EOF {
				t.Errorf("second Next = %v, want EOF", err)
			}
		})
	}
}

func TestAppendStreamSplits(t *testing.T) {
	content := bytes.Repeat([]byte("x"), MaxContent+10)
	b := AppendStream(nil, TypeStdout, 1, content)
	rr := NewReader(bufio.NewReader(bytes.NewReader(b)))
	var got []int
	for rr.Next() == nil {
		got = append(got, len(rr.Content))
	}
	if diff := cmp.Diff([]int{MaxContent, 10}, got); diff != "" {
		t.Errorf("record sizes (-want +got):\n%s", diff)
	}
}

var pairCases = []struct {
	name  string
	pairs []Pair
	wire  string
}{
	{"short", []Pair{{Name: "A", Value: "b"}}, "\x01\x01Ab"},
	{"empty value", []Pair{{Name: "CONTENT_LENGTH", Value: ""}}, "\x0e\x00CONTENT_LENGTH"},
	{"long value", []Pair{{Name: "K", Value: strings.Repeat("v", 200)}}, "\x01\x80\x00\x00\xc8K" + strings.Repeat("v", 200)},
	{"long name", []Pair{{Name: strings.Repeat("n", 128), Value: "v"}}, "\x80\x00\x00\x80\x01" + strings.Repeat("n", 128) + "v"},
}

func TestPairs(t *testing.T) {
	for _, tc := range pairCases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendPairs(nil, tc.pairs)
			if string(got) != tc.wire {
				t.Errorf("AppendPairs = %q, want %q", got, tc.wire)
			}
			var back []Pair
			if err := ParsePairs(got, func(n, v string) error { back = append(back, Pair{Name: n, Value: v}); return nil }); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.pairs, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePairsErrors(t *testing.T) {
	for _, wire := range []string{"\x05", "\x05\x01ab", "\x80\x00", "\x01\x80\x00\x00", "\xff\xff\xff\xff\xff\xff\xff\xffab"} {
		err := ParsePairs([]byte(wire), func(string, string) error { return nil })
		if !errors.Is(err, ErrMalformedPairs) {
			t.Errorf("ParsePairs(%q) = %v, want ErrMalformedPairs", wire, err)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name, wire string
		want       error
	}{
		{"short header", "\x01\x06\x00", io.ErrUnexpectedEOF},
		{"short content", "\x01\x06\x00\x01\x00\x05\x00\x00ab", io.ErrUnexpectedEOF},
		{"short padding", "\x01\x06\x00\x01\x00\x01\x07\x00a\x00", io.ErrUnexpectedEOF},
		{"version", "\x02\x06\x00\x01\x00\x00\x00\x00", ErrVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := NewReader(bufio.NewReader(strings.NewReader(tc.wire))).Next()
			if !errors.Is(err, tc.want) {
				t.Errorf("Next = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBeginEnd(t *testing.T) {
	b := AppendBeginRequest(nil, 1, BeginRequest{Role: RoleResponder, Flags: FlagKeepConn})
	if want := "\x01\x01\x00\x01\x00\x08\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00"; string(b) != want {
		t.Errorf("BEGIN_REQUEST = %q, want %q", b, want)
	}
	br, err := ParseBeginRequest(b[8:])
	if err != nil || br.Role != RoleResponder || !br.KeepConn() {
		t.Errorf("ParseBeginRequest = %+v, %v", br, err)
	}
	e := AppendEndRequest(nil, 1, EndRequest{AppStatus: 258, ProtocolStatus: StatusOverloaded})
	er, err := ParseEndRequest(e[8:])
	if err != nil || er.AppStatus != 258 || er.ProtocolStatus != StatusOverloaded {
		t.Errorf("ParseEndRequest = %+v, %v", er, err)
	}
	if _, err := ParseBeginRequest([]byte{0, 1}); !errors.Is(err, ErrShortBody) {
		t.Errorf("short BEGIN_REQUEST: %v", err)
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	pairs := benchPairs()
	buf := make([]byte, 0, 4096)
	var pb []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBeginRequest(buf[:0], 1, BeginRequest{Role: RoleResponder})
		pb = AppendPairs(pb[:0], pairs)
		buf = AppendStream(buf, TypeParams, 1, pb)
		buf = AppendRecord(buf, TypeParams, 1, nil)
		buf = AppendRecord(buf, TypeStdin, 1, nil)
	}
}

func BenchmarkReadRequest(b *testing.B) {
	wire := AppendBeginRequest(nil, 1, BeginRequest{Role: RoleResponder})
	wire = AppendStream(wire, TypeParams, 1, AppendPairs(nil, benchPairs()))
	wire = AppendRecord(wire, TypeParams, 1, nil)
	wire = AppendRecord(wire, TypeStdin, 1, nil)
	rd := bytes.NewReader(wire)
	br := bufio.NewReader(rd)
	rr := NewReader(br)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(wire)
		br.Reset(rd)
		for {
			if err := rr.Next(); err != nil {
				break
			}
			if rr.Header.Type == TypeParams && len(rr.Content) > 0 {
				ParsePairs(rr.Content, func(string, string) error { return nil })
			}
		}
	}
}

// benchPairs is what nginx's fastcgi_params sends for a small GET.
func benchPairs() []Pair {
	return []Pair{
		{Name: "QUERY_STRING", Value: "a=1"}, {Name: "REQUEST_METHOD", Value: "GET"}, {Name: "CONTENT_TYPE", Value: ""}, {Name: "CONTENT_LENGTH", Value: ""},
		{Name: "SCRIPT_NAME", Value: "/hello"}, {Name: "REQUEST_URI", Value: "/hello?a=1"}, {Name: "DOCUMENT_URI", Value: "/hello"},
		{Name: "DOCUMENT_ROOT", Value: "/usr/share/nginx/html"}, {Name: "SERVER_PROTOCOL", Value: "HTTP/1.1"}, {Name: "REQUEST_SCHEME", Value: "http"},
		{Name: "GATEWAY_INTERFACE", Value: "CGI/1.1"}, {Name: "SERVER_SOFTWARE", Value: "nginx/1.22.1"}, {Name: "REMOTE_ADDR", Value: "127.0.0.1"},
		{Name: "REMOTE_PORT", Value: "51234"}, {Name: "SERVER_ADDR", Value: "127.0.0.1"}, {Name: "SERVER_PORT", Value: "8080"}, {Name: "SERVER_NAME", Value: "localhost"},
		{Name: "REDIRECT_STATUS", Value: "200"}, {Name: "HTTP_HOST", Value: "localhost"}, {Name: "HTTP_USER_AGENT", Value: "curl/7.88.1"}, {Name: "HTTP_ACCEPT", Value: "*/*"},
	}
}
