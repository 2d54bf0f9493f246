package lint

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/registry"
)

type recorder struct {
	mu sync.Mutex
	vs []Rule
}

func (r *recorder) report(_ *http.Request, v Violation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vs = append(r.vs, v.Rule)
}

func (r *recorder) rules() []Rule {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Rule(nil), r.vs...)
}

func TestRules(t *testing.T) {
	text := func(w http.ResponseWriter) { w.Header().Set("Content-Type", "text/plain") }
	tests := []struct {
		name       string
		method     string
		h          http.HandlerFunc
		want       []Rule
		wantStatus int // non-strict
		strictCode int // status in strict mode
	}{
		{
			name: "clean",
			h: func(w http.ResponseWriter, r *http.Request) {
				text(w)
				w.Header().Set("Content-Length", "5")
				io.WriteString(w, "hello")
			},
			wantStatus: 200, strictCode: 200,
		},
		{
			name: "clean empty",
			h:    func(w http.ResponseWriter, r *http.Request) {},
			want: nil, wantStatus: 200, strictCode: 200,
		},
		{
			name: "writeheader twice",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(201)
				w.WriteHeader(202)
			},
			want: []Rule{RuleWriteHeaderTwice}, wantStatus: 201, strictCode: 201,
		},
		{
			name: "informational then final is fine",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(103)
				w.WriteHeader(204)
			},
			wantStatus: 0, strictCode: 0, // the recorder keeps the 103
		},
		{
			name: "invalid status",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(42)
			},
			want: []Rule{RuleInvalidStatus}, wantStatus: 500, strictCode: 500,
		},
		{
			name: "status above 599",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(700)
			},
			want: []Rule{RuleInvalidStatus}, wantStatus: 700, strictCode: 500,
		},
		{
			name:   "body on HEAD",
			method: "HEAD",
			h: func(w http.ResponseWriter, r *http.Request) {
				text(w)
				io.WriteString(w, "x")
			},
			want: []Rule{RuleBodyNotAllowed}, wantStatus: 200, strictCode: 500,
		},
		{
			name: "body on 204",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(204)
				io.WriteString(w, "x")
			},
			want: []Rule{RuleBodyNotAllowed}, wantStatus: 204, strictCode: 500,
		},
		{
			name: "body on 304",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(304)
				io.WriteString(w, "x")
			},
			want: []Rule{RuleBodyNotAllowed}, wantStatus: 304, strictCode: 500,
		},
		{
			name: "content-length short",
			h: func(w http.ResponseWriter, r *http.Request) {
				text(w)
				w.Header().Set("Content-Length", "10")
				io.WriteString(w, "abc")
			},
			want: []Rule{RuleContentLength}, wantStatus: 200, strictCode: 200,
		},
		{
			name: "content-length short nothing written",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "10")
			},
			want: []Rule{RuleContentLength}, wantStatus: 200, strictCode: 500,
		},
		{
			name: "content-length long",
			h: func(w http.ResponseWriter, r *http.Request) {
				text(w)
				w.Header().Set("Content-Length", "1")
				io.WriteString(w, "abc")
			},
			want: []Rule{RuleContentLength}, wantStatus: 200, strictCode: 200,
		},
		{
			name: "content-length garbage",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "ten")
			},
			want: []Rule{RuleContentLength}, wantStatus: 200, strictCode: 500,
		},
		{
			name: "hop-by-hop",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Keep-Alive", "timeout=5")
				w.Header().Set("Transfer-Encoding", "chunked")
				w.WriteHeader(200)
			},
			want: []Rule{RuleHopByHop, RuleHopByHop}, wantStatus: 200, strictCode: 500,
		},
		{
			name: "connection close is net/http's own idiom",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", "close")
				text(w)
				w.WriteHeader(413)
			},
			want: nil, wantStatus: 413, strictCode: 413,
		},
		{
			name: "connection keep-alive is not",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", "keep-alive")
				w.WriteHeader(200)
			},
			want: []Rule{RuleHopByHop}, wantStatus: 200, strictCode: 500,
		},
		{
			name: "upgrade on 101 is fine",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", "Upgrade")
				w.Header().Set("Upgrade", "websocket")
				w.WriteHeader(101)
			},
			wantStatus: 101, strictCode: 101,
		},
		{
			name: "missing content-type",
			h: func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "<p>hi")
			},
			want: []Rule{RuleMissingContentType}, wantStatus: 200, strictCode: 500,
		},
		{
			name: "content-type nil turns sniffing off deliberately",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = nil
				io.WriteString(w, "raw")
			},
			wantStatus: 200, strictCode: 200,
		},
		{
			name: "content-type set after WriteHeader is too late",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(200)
				text(w)
				io.WriteString(w, "x")
			},
			want: []Rule{RuleMissingContentType}, wantStatus: 200, strictCode: 500,
		},
	}
	for _, tt := range tests {
		for _, strict := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/strict=%v", tt.name, strict), func(t *testing.T) {
				var rec recorder
				h := New(Options{Strict: strict, Report: rec.report})(tt.h)
				method := tt.method
				if method == "" {
					method = "GET"
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(method, "/x", nil))
				if diff := cmp.Diff(tt.want, rec.rules()); diff != "" {
					t.Errorf("violations (-want +got):\n%s", diff)
				}
				want := tt.wantStatus
				if strict {
					want = tt.strictCode
				}
				if want != 0 && w.Code != want {
					t.Errorf("status = %d, want %d", w.Code, want)
				}
				if strict && want == 500 && !strings.Contains(w.Body.String(), "lint:") {
					t.Errorf("strict body = %q, want the violation", w.Body.String())
				}
			})
		}
	}
}

func TestWriteAfterReturn(t *testing.T) {
	var rec recorder
	var saved http.ResponseWriter
	h := New(Options{Report: rec.report})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		saved = w
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if _, err := saved.Write([]byte("late")); err == nil {
		t.Error("late Write succeeded")
	}
	if diff := cmp.Diff([]Rule{RuleWriteAfterReturn}, rec.rules()); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	if w.Body.Len() != 0 {
		t.Errorf("late write reached the client: %q", w.Body)
	}
}

func TestHijackThenWrite(t *testing.T) {
	var rec recorder
	done := make(chan struct{})
	h := New(Options{Report: rec.report})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		brw.Flush()
		if _, err := w.Write([]byte("oops")); err != http.ErrHijacked {
			t.Errorf("Write after Hijack: err = %v, want ErrHijacked", err)
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Errorf("body = %q", body)
	}
	<-done
	if diff := cmp.Diff([]Rule{RuleWriteAfterHijack}, rec.rules()); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

func TestFlushStreams(t *testing.T) {
	wiretest.StreamsWith(t, New(Options{}), "/", wiretest.StreamOptions{
		ResponseHeader: http.Header{"Content-Type": {"text/plain"}},
	})
}

func TestLogs(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	h := New(Options{Logger: l})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.WriteHeader(500)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil))
	for _, want := range []string{"component=lint", "rule=writeheader-twice", "path=/p"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
}

type fakeTB struct{ errs []string }

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func TestWrap(t *testing.T) {
	var tb fakeTB
	h := Wrap(&tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "no type")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/w", nil))
	if len(tb.errs) != 1 || !strings.Contains(tb.errs[0], "missing-content-type") || !strings.Contains(tb.errs[0], "GET /w") {
		t.Errorf("errors = %q", tb.errs)
	}
	// A clean handler reports nothing through the real testing.T.
	Wrap(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "fine")
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestFactory(t *testing.T) {
	mk := func(local ...registry.Entry) *registry.Config {
		return registry.NewConfig(registry.Filter, "filter:lint", "t.ini:1", "/tmp/t.ini", nil, local, nil, nil)
	}
	c := mk(registry.Entry{Key: "strict", Value: "true"})
	f, err := factory(c)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Unread(); len(u) != 0 {
		t.Errorf("unread keys %v", u)
	}
	w := httptest.NewRecorder()
	f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(42) })).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 {
		t.Errorf("strict status = %d", w.Code)
	}
	_, err = factory(mk(registry.Entry{Key: "strict", Value: "maybe", Origin: "t.ini:3"}))
	if err == nil || !strings.Contains(err.Error(), `t.ini:3: [filter:lint]: key "strict"`) {
		t.Errorf("bad strict: err = %v", err)
	}
}
