package cgivars

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/gopaste/gopaste/internal/wiretest"
)

// TestAppendFromRequest: the variables FromRequest gives, after what
// dst holds, which neither Extra nor an error touches.
func TestAppendFromRequest(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://example.com/x?q=1", nil)
	r.RemoteAddr = "10.0.0.1:1234"
	r.Header.Set("User-Agent", "t")
	opts := Options{Extra: []Pair{{"KEEP", "new"}}}
	want, err := FromRequest(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]Pair, 1, 64)
	dst[0] = Pair{"KEEP", "old"}
	got, err := AppendFromRequest(dst, r, opts)
	if err != nil || got[0] != (Pair{"KEEP", "old"}) || !slices.Equal(got[1:], want) {
		t.Errorf("AppendFromRequest = %v, %v; want [KEEP=old] + %v", got, err, want)
	}
	if &got[0] != &dst[0] {
		t.Error("AppendFromRequest did not append in dst's room")
	}
	r.Header.Set("X-Bad", "a\nb")
	if got, err := AppendFromRequest(dst, r, opts); !errors.Is(err, ErrInvalidByte) || len(got) != 1 {
		t.Errorf("AppendFromRequest with LF = %v, %v; want dst and ErrInvalidByte", got, err)
	}
}

// BenchmarkFromRequest is the variables of a GET as wrk sends it (Host
// only) and as a browser does, with this hop's X-Forwarded headers.
func BenchmarkFromRequest(b *testing.B) {
	headers := map[string]http.Header{
		"wrk":     {},
		"browser": wiretest.BrowserHeader(),
	}
	for _, name := range []string{"wrk", "browser"} {
		b.Run(name, func(b *testing.B) {
			r, _ := http.NewRequest("GET", "http://localhost:8080/hello.php?a=1", nil)
			r.RequestURI = "/hello.php?a=1"
			r.RemoteAddr = "127.0.0.1:51234"
			r.Header = headers[name]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := FromRequest(r, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
