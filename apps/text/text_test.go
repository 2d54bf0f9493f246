package text

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
)

// TestServeHTTP runs each case over a real connection, as a plain
// net/http handler's answer goes: the length a client sees comes from the
// app (HEAD, a body over 2 KiB) or from the server measuring a short
// body, and is there either way.
func TestServeHTTP(t *testing.T) {
	long := strings.Repeat("x", 3000)
	tests := []struct {
		name       string
		opts       Options
		method     string
		wantStatus int
		wantBody   string
		wantType   string
		wantLength int64 // -1: none
	}{
		{"default", Options{}, "GET", 200, "Hello, World!\n", DefaultContentType, 14},
		{"head", Options{}, "HEAD", 200, "", DefaultContentType, 14},
		{"custom", Options{Body: []byte("down for maintenance"), ContentType: "text/html", Status: 503},
			"POST", 503, "down for maintenance", "text/html", 20},
		{"empty body", Options{Body: []byte{}}, "GET", 200, "", DefaultContentType, 0},
		{"long body", Options{Body: []byte(long)}, "GET", 200, long, DefaultContentType, 3000},
		{"long body, head", Options{Body: []byte(long)}, "HEAD", 200, "", DefaultContentType, 3000},
		{"no content", Options{Status: 204, Body: []byte("ignored")}, "GET", 204, "", "", -1},
		{"not modified", Options{Status: 304}, "GET", 304, "", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(tt.method, srv.URL+"/any/path?x=1", nil)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if string(b) != tt.wantBody {
				t.Errorf("body = %.40q, want %.40q", b, tt.wantBody)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			got := resp.Header.Values("Content-Length")
			switch {
			case tt.wantLength < 0 && len(got) != 0:
				t.Errorf("Content-Length %q, want none", got)
			case tt.wantLength >= 0 && (len(got) != 1 || got[0] != strconv.FormatInt(tt.wantLength, 10)):
				t.Errorf("Content-Length %q, want %d", got, tt.wantLength)
			}
			if len(resp.TransferEncoding) != 0 {
				t.Errorf("Transfer-Encoding %q, want none", resp.TransferEncoding)
			}
			if resp.Header.Get("Date") == "" {
				t.Error("no Date header")
			}
		})
	}
}

func TestNewRejectsBadStatus(t *testing.T) {
	for _, s := range []int{-1, 42, 100, 103, 1000} {
		if _, err := New(Options{Status: s}); err == nil {
			t.Errorf("New(status %d) = nil error, want one", s)
		}
	}
}

// A filter that appends to a header value must not change the values the
// handler shares between responses.
func TestSharedHeaderNotModified(t *testing.T) {
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendVary := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		w.Header().Add("Content-Type", "extra")
	})
	appendVary.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Values("Content-Type"); len(got) != 1 || got[0] != DefaultContentType {
		t.Errorf("Content-Type after another response was changed = %q", got)
	}
}

func newConfig(local ...registry.Entry) *registry.Config {
	return registry.NewConfig(registry.App, "app:main", "t.ini:1", "/tmp/t.ini", nil, local, nil, nil)
}

func TestFactory(t *testing.T) {
	c := newConfig(
		registry.Entry{Key: "body", Value: "ok"},
		registry.Entry{Key: "content_type", Value: "application/json"},
		registry.Entry{Key: "status", Value: "503"},
	)
	h, err := factory(c)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Unread(); len(u) != 0 {
		t.Errorf("unread keys %q", u)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 503 || rec.Body.String() != "ok" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("got %d %q %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
	}
}

func TestFactoryErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries []registry.Entry
		want    string
	}{
		{"not a number", []registry.Entry{{Key: "status", Value: "ok"}}, `key "status"`},
		{"out of range", []registry.Entry{{Key: "status", Value: "1000"}}, `key "status"`},
		{"informational", []registry.Entry{{Key: "status", Value: "101"}}, "informational"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := factory(newConfig(tt.entries...))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "t.ini:1") {
				t.Errorf("error = %v, want one naming the place and %s", err, tt.want)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	if _, ok := registry.Default.Lookup(registry.App, "text"); !ok {
		t.Error(`app "text" is not registered`)
	}
}

// discardWriter is the cheapest ResponseWriter: it reuses one header map,
// so that what the handler itself allocates is all that is counted.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func TestNoAllocations(t *testing.T) {
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &discardWriter{h: make(http.Header)}
	r := httptest.NewRequest("GET", "/", nil)
	allocs := testing.AllocsPerRun(1000, func() {
		clear(w.h)
		h.ServeHTTP(w, r)
	})
	if allocs != 0 {
		t.Errorf("ServeHTTP allocates %v times per request, want 0", allocs)
	}
}

// BenchmarkServeHTTP measures the handler alone: 0 allocs/op.
func BenchmarkServeHTTP(b *testing.B) {
	h, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	w := &discardWriter{h: make(http.Header)}
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkPlainHandler is the idiomatic net/http hello world the
// benchmarks compare with, on the same writer: Header().Set allocates.
func BenchmarkPlainHandler(b *testing.B) {
	body := []byte(DefaultBody)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", DefaultContentType)
		w.Write(body)
	})
	w := &discardWriter{h: make(http.Header)}
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}
