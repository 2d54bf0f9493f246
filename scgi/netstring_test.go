package scgi

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The spec's example request.
const specExample = "70:CONTENT_LENGTH\x0027\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00REQUEST_URI\x00/deepthought\x00,What is the answer to life?"

func TestReadHeaders(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     []Var
		rest     string
		err      error
	}{
		{name: "spec example", in: specExample, want: []Var{
			{Name: "CONTENT_LENGTH", Value: "27"}, {Name: "SCGI", Value: "1"}, {Name: "REQUEST_METHOD", Value: "POST"}, {Name: "REQUEST_URI", Value: "/deepthought"},
		}, rest: "What is the answer to life?"},
		{name: "empty value", in: "20:CONTENT_LENGTH\x000\x00X\x00\x00,", want: []Var{{Name: "CONTENT_LENGTH", Value: "0"}, {Name: "X", Value: ""}}},
		{name: "repeated name kept", in: "25:CONTENT_LENGTH\x000\x00A\x001\x00A\x002\x00,", want: []Var{{Name: "CONTENT_LENGTH", Value: "0"}, {Name: "A", Value: "1"}, {Name: "A", Value: "2"}}},
		{name: "too large before reading", in: "99999:", max: 1000, err: ErrHeaderTooLarge},
		{name: "too many digits", in: "12345678901:", err: ErrHeaderTooLarge},
		{name: "leading zero", in: "017:CONTENT_LENGTH\x000\x00,", err: ErrMalformed},
		{name: "zero length", in: "0:,", err: ErrMalformed},
		{name: "no colon", in: "17;CONTENT_LENGTH\x000\x00,", err: ErrMalformed},
		{name: "no comma", in: "17:CONTENT_LENGTH\x000\x00;", err: ErrMalformed},
		{name: "odd strings", in: "15:CONTENT_LENGTH\x00,", err: ErrMalformed},
		{name: "no trailing NUL", in: "16:CONTENT_LENGTH\x000,", err: ErrMalformed},
		{name: "empty name", in: "20:CONTENT_LENGTH\x000\x00\x00x\x00,", err: ErrMalformed},
		{name: "length not first", in: "24:SCGI\x001\x00CONTENT_LENGTH\x000\x00,", err: ErrNoContentLength},
		{name: "length not digits", in: "18:CONTENT_LENGTH\x00-1\x00,", err: ErrNoContentLength},
		{name: "truncated", in: "30:CONTENT_LENGTH\x000\x00", err: io.ErrUnexpectedEOF},
		{name: "truncated length", in: "30", err: io.ErrUnexpectedEOF},
		{name: "nothing", in: "", err: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			got, err := ReadHeaders(br, tt.max)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ReadHeaders err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadHeaders mismatch (-want +got):\n%s", diff)
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != tt.rest {
				t.Errorf("left %q, want %q", rest, tt.rest)
			}
		})
	}
}

func TestAppendHeaders(t *testing.T) {
	tests := []struct {
		name string
		in   []Var
		want string
		err  error
	}{
		{name: "spec example", in: []Var{
			{Name: "CONTENT_LENGTH", Value: "27"}, {Name: "SCGI", Value: "1"}, {Name: "REQUEST_METHOD", Value: "POST"}, {Name: "REQUEST_URI", Value: "/deepthought"},
		}, want: strings.TrimSuffix(specExample, "What is the answer to life?")},
		{name: "length moved first, SCGI added", in: []Var{{Name: "A", Value: "b"}, {Name: "CONTENT_LENGTH", Value: "0"}},
			want: "28:CONTENT_LENGTH\x000\x00SCGI\x001\x00A\x00b\x00,"},
		{name: "no length", in: []Var{{Name: "A", Value: "b"}}, err: ErrNoContentLength},
		{name: "two lengths", in: []Var{{Name: "CONTENT_LENGTH", Value: "0"}, {Name: "CONTENT_LENGTH", Value: "1"}}, err: ErrNoContentLength},
		{name: "NUL in value", in: []Var{{Name: "CONTENT_LENGTH", Value: "0"}, {Name: "A", Value: "x\x00y"}}, err: ErrInvalidVar},
		{name: "empty name", in: []Var{{Name: "CONTENT_LENGTH", Value: "0"}, {Name: "", Value: "y"}}, err: ErrInvalidVar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendHeaders(nil, tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && string(got) != tt.want {
				t.Errorf("AppendHeaders = %q, want %q", got, tt.want)
			}
		})
	}
}
