package wiretest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStreams(t *testing.T) {
	h := Streams(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Wrapped", "1")
			next.ServeHTTP(w, r)
		})
	}, "/")
	if h.Get("X-Wrapped") != "1" {
		t.Errorf("header %v", h)
	}
}

func TestStreamsCatchesBuffering(t *testing.T) {
	// A filter that holds the whole reply until the handler returns.
	buffering := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			w.Write(rec.Body.Bytes())
		})
	}
	f := &fakeTB{TB: t}
	f.run(func(tb testing.TB) { Streams(tb, buffering, "/") })
	if got := f.reported(); !strings.Contains(got, "while the handler waited") {
		t.Errorf("reported %q, want the first read to fail", got)
	}
}
