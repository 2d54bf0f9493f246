package tcpcork

import (
	"net/http/httptest"
	"slices"
	"testing"
)

type recorder struct{ calls []bool }

func (r *recorder) Cork(on bool) { r.calls = append(r.calls, on) }

// During corks an HTTP/1 request's connection and its function uncorks
// it; a request without a Corker, or over HTTP/2, is left alone.
func TestDuring(t *testing.T) {
	var rec recorder
	r := httptest.NewRequest("GET", "/", nil)
	During(r)() // no Corker: nothing to do, no panic

	r = r.WithContext(With(r.Context(), &rec))
	uncork := During(r)
	if !slices.Equal(rec.calls, []bool{true}) {
		t.Fatalf("after During: %v, want [true]", rec.calls)
	}
	uncork()
	if !slices.Equal(rec.calls, []bool{true, false}) {
		t.Fatalf("after uncork: %v, want [true false]", rec.calls)
	}

	h2 := r.Clone(r.Context())
	h2.ProtoMajor, h2.ProtoMinor, h2.Proto = 2, 0, "HTTP/2.0"
	During(h2)()
	if len(rec.calls) != 2 {
		t.Errorf("an HTTP/2 request corked its connection: %v", rec.calls)
	}
}
