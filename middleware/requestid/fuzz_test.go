package requestid

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzIncoming checks that whatever a client sends as its id, the id the
// application sees is valid and the one sent is kept exactly when Valid.
func FuzzIncoming(f *testing.F) {
	for _, s := range []string{"abc", "", "a b", "x\r\ny", "550e8400-e29b-41d4-a716-446655440000"} {
		f.Add(s)
	}
	mw, _ := New(Options{})
	f.Fuzz(func(t *testing.T, in string) {
		var seen string
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = From(r.Context()) }))
		req := httptest.NewRequest("GET", "/", nil)
		req.Header[DefaultHeader] = []string{in}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if !Valid(seen) {
			t.Fatalf("id %q is not valid", seen)
		}
		if Valid(in) != (seen == in) {
			t.Fatalf("in %q (valid %v), seen %q", in, Valid(in), seen)
		}
	})
}
