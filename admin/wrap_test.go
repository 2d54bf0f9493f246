package admin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/apps/urlmap"
)

func TestWrapCountsPerMount(t *testing.T) {
	hub := NewHub()
	now := t0.Add(3 * time.Second)
	hub.Now = func() time.Time { now = now.Add(2 * time.Millisecond); return now }
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	fail := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 502) })
	silent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	flush := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the recorder hides http.Flusher")
		}
		w.WriteHeader(201)
		w.WriteHeader(500) // superfluous: the 201 counts
	})
	inner := urlmap.New([]urlmap.Mount{{Prefix: "/v1", Handler: fail}}, nil)
	m := urlmap.New([]urlmap.Mount{
		{Prefix: "/", Handler: ok},
		{Prefix: "/api", Handler: inner},
		{Prefix: "/quiet", Handler: silent},
		{Prefix: "/stream", Handler: flush},
	}, nil)
	h := hub.Wrap(m)
	for _, target := range []string{"/", "/index.html", "/api/v1/x", "/api/v1/y", "/quiet", "/stream"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", target, nil))
	}
	want := map[string][2]uint64{"/": {2, 0}, "/api/v1": {2, 2}, "/quiet": {1, 0}, "/stream": {1, 0}}
	got := map[string][2]uint64{}
	for _, s := range hub.Stats.Mounts() {
		st := s.Stats(now)
		got[s.Name()] = [2]uint64{st.Requests, st.Errors}
		if st.Requests > 0 && st.LatencySum != float64(st.Requests)*0.002 {
			t.Errorf("%s: latency sum %v, want 2ms per request", s.Name(), st.LatencySum)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: requests, errors = %v, want %v", k, got[k], v)
		}
	}
}

// TestWrapPanic: a panicking handler's request counts as a 500 and the
// panic goes on to the server, which logs its stack.
func TestWrapPanic(t *testing.T) {
	hub := NewHub()
	h := hub.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the handler's panic", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if st := hub.Stats.Mount("/").Stats(time.Now()); st.Requests != 1 || st.Errors != 1 {
		t.Errorf("requests %d errors %d, want 1 and 1", st.Requests, st.Errors)
	}
}

// TestWrapKeepsSendfile: the recorder passes ReadFrom through, so
// net/http still sends files with sendfile.
func TestWrapKeepsSendfile(t *testing.T) {
	inner := &readFromWriter{ResponseRecorder: httptest.NewRecorder()}
	h := NewHub().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rf, ok := w.(io.ReaderFrom)
		if !ok {
			t.Fatal("the recorder hides io.ReaderFrom")
		}
		rf.ReadFrom(strings.NewReader("file contents"))
	}))
	h.ServeHTTP(inner, httptest.NewRequest("GET", "/", nil))
	if inner.calls != 1 || inner.Body.String() != "file contents" {
		t.Errorf("ReadFrom reached the writer %d times, body %q", inner.calls, inner.Body)
	}
}

type readFromWriter struct {
	*httptest.ResponseRecorder
	calls int
}

func (w *readFromWriter) ReadFrom(r io.Reader) (int64, error) {
	w.calls++
	return io.Copy(w.ResponseRecorder, r)
}
