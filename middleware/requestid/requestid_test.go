package requestid

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry/registrytest"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestFilter(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		incoming []string // values of the incoming header
		hdr      string   // header the request carries them in
		wantID   string   // "" means a generated UUID
		wantResp bool
	}{
		{name: "generated", wantResp: true},
		{name: "incoming kept", incoming: []string{"abc-123"}, hdr: DefaultHeader, wantID: "abc-123", wantResp: true},
		{name: "incoming with space replaced", incoming: []string{"abc 123"}, hdr: DefaultHeader, wantResp: true},
		{name: "incoming with quote replaced", incoming: []string{`a"b`}, hdr: DefaultHeader, wantResp: true},
		{name: "too long replaced", incoming: []string{strings.Repeat("a", MaxLen+1)}, hdr: DefaultHeader, wantResp: true},
		{name: "longest kept", incoming: []string{strings.Repeat("a", MaxLen)}, hdr: DefaultHeader, wantID: strings.Repeat("a", MaxLen), wantResp: true},
		{name: "two values replaced", incoming: []string{"a", "b"}, hdr: DefaultHeader, wantResp: true},
		{name: "ignore incoming", opts: Options{IgnoreIncoming: true}, incoming: []string{"abc"}, hdr: DefaultHeader, wantResp: true},
		{name: "custom header", opts: Options{Header: "x-trace"}, incoming: []string{"t1"}, hdr: "X-Trace", wantID: "t1", wantResp: true},
		{name: "other header ignored", opts: Options{Header: "X-Trace"}, incoming: []string{"t1"}, hdr: DefaultHeader, wantResp: true},
		{name: "no response header", opts: Options{NoResponseHeader: true}, incoming: []string{"abc"}, hdr: DefaultHeader, wantID: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var seen string
			h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = From(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			for _, v := range tt.incoming {
				req.Header.Add(tt.hdr, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if tt.wantID != "" && seen != tt.wantID {
				t.Errorf("From = %q, want %q", seen, tt.wantID)
			}
			if tt.wantID == "" && !uuidRE.MatchString(seen) {
				t.Errorf("From = %q, want a generated UUID", seen)
			}
			name := tt.opts.Header
			if name == "" {
				name = DefaultHeader
			}
			got := rec.Header().Get(name)
			if tt.wantResp && got != seen {
				t.Errorf("response %s = %q, want %q", name, got, seen)
			}
			if !tt.wantResp && got != "" {
				t.Errorf("response %s = %q, want none", name, got)
			}
		})
	}
}

func TestRequestHeader(t *testing.T) {
	f, _ := New(Options{RequestHeader: true, IgnoreIncoming: true})
	var seen, inHeader string
	h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, inHeader = From(r.Context()), r.Header.Get(DefaultHeader)
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set(DefaultHeader, "old")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if inHeader != seen || !uuidRE.MatchString(seen) {
		t.Errorf("request header %q, context %q", inHeader, seen)
	}
	if got := req.Header.Get(DefaultHeader); got != "old" {
		t.Errorf("original request header changed to %q", got)
	}
}

func TestGeneratedIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := Generate()
		if !uuidRE.MatchString(id) {
			t.Fatalf("Generate() = %q, not a v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("Generate() repeated %q", id)
		}
		seen[id] = true
	}
}

// The id made by the filter points into the context value; it must stay
// intact after the request is done and other requests are served.
func TestIDOutlivesRequest(t *testing.T) {
	f, _ := New(Options{})
	var ids []string
	h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids = append(ids, From(r.Context()))
	}))
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	if ids[0] == ids[1] || ids[1] == ids[2] || !uuidRE.MatchString(ids[0]) {
		t.Errorf("ids = %q", ids)
	}
}

func TestFromWithout(t *testing.T) {
	if got := From(context.Background()); got != "" {
		t.Errorf("From(Background) = %q, want empty", got)
	}
	if got := From(With(context.Background(), "x")); got != "x" {
		t.Errorf("From(With(x)) = %q", got)
	}
}

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(LogHandler(slog.NewTextHandler(&buf, nil))).With("component", "t")
	l.InfoContext(With(context.Background(), "rid-1"), "hello")
	l.InfoContext(context.Background(), "bye")
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("log = %q", out)
	}
	if !strings.Contains(lines[0], "request_id=rid-1") || !strings.Contains(lines[0], "component=t") {
		t.Errorf("first line %q lacks request_id or component", lines[0])
	}
	if strings.Contains(lines[1], "request_id") {
		t.Errorf("second line %q has a request_id", lines[1])
	}
}

func TestNewBadHeader(t *testing.T) {
	for _, h := range []string{"X Bad", "X:Bad", "é"} {
		if _, err := New(Options{Header: h}); err == nil {
			t.Errorf("New(Header %q) = nil error", h)
		}
	}
}

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		local   map[string]string
		wantErr string // substring naming the key; "" means success
	}{
		{name: "defaults"},
		{name: "all keys", local: map[string]string{"header": "X-Trace-Id", "trust_incoming": "false", "response_header": "no", "request_header": "yes"}},
		{name: "bad request_header", local: map[string]string{"request_header": "both"}, wantErr: `key "request_header"`},
		{name: "bad header", local: map[string]string{"header": "X Bad"}, wantErr: `key "header"`},
		{name: "bad trust_incoming", local: map[string]string{"trust_incoming": "maybe"}, wantErr: `key "trust_incoming"`},
		{name: "bad response_header", local: map[string]string{"response_header": "2"}, wantErr: `key "response_header"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registrytest.CheckFilter(t, "requestid", "filter:rid", "/tmp/t.ini", tt.local, tt.wantErr)
		})
	}
}

func hello(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("Hello, World!"))
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchServe(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkFilter shows the filter's cost next to the bare handler. Run
// with -benchmem: the filter adds 2 allocations (the request copy that
// carries the id, with its context value, and the id it makes).
func BenchmarkFilter(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchServe(b, http.HandlerFunc(hello)) })
	f, _ := New(Options{})
	b.Run("requestid", func(b *testing.B) { benchServe(b, f(http.HandlerFunc(hello))) })
}

func allocs(h http.Handler) float64 {
	req := httptest.NewRequest("GET", "/", nil)
	w := &discardWriter{h: http.Header{}}
	return testing.AllocsPerRun(100, func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	})
}

func TestAllocs(t *testing.T) {
	f, _ := New(Options{})
	bare := allocs(http.HandlerFunc(hello))
	with := allocs(f(http.HandlerFunc(hello)))
	if with-bare > 2 {
		t.Errorf("filter adds %v allocations per request, want at most 2 (the request copy with its context, the id)", with-bare)
	}
}
