package headers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRule checks that a rule New accepts never produces a header the
// server would refuse or that could split the response.
func FuzzRule(f *testing.F) {
	f.Add("X-Frame-Options", "DENY")
	f.Add("Bad Name", "x")
	f.Add("X-A", "a\r\nB: c")
	f.Add("x-lower", "  padded  ")
	f.Fuzz(func(t *testing.T, name, value string) {
		mw, err := New(Options{Rules: []Rule{{Set, name, value}}})
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		for k, vs := range rec.Result().Header {
			if !validName(k) {
				t.Fatalf("bad header name %q", k)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("header %s value %q", k, v)
				}
			}
		}
	})
}
