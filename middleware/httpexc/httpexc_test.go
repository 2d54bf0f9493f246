package httpexc

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		method     string
		accept     string
		format     Format
		wantStatus int
		wantHeader map[string]string
		wantBody   string // substring; "-" means empty body
	}{
		{name: "not found", err: NotFound(""), wantStatus: 404, wantBody: "404 Not Found"},
		{name: "not found message", err: NotFound("no such post"), wantStatus: 404, wantBody: "404 no such post"},
		{name: "forbidden", err: Forbidden("nope"), wantStatus: 403, wantBody: "nope"},
		{name: "unauthorized", err: Unauthorized(`Basic realm="x"`), wantStatus: 401,
			wantHeader: map[string]string{"Www-Authenticate": `Basic realm="x"`}},
		{name: "method not allowed", err: MethodNotAllowed("GET", "HEAD"), wantStatus: 405,
			wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{name: "redirect 303", err: Redirect("/login", 303), wantStatus: 303,
			wantHeader: map[string]string{"Location": "/login"}},
		{name: "redirect relative", err: Redirect("other", 301), wantStatus: 301,
			wantHeader: map[string]string{"Location": "/a/other"}},
		{name: "redirect bad status is 302", err: Redirect("/x", 200), wantStatus: 302},
		{name: "wrapped", err: fmt.Errorf("load: %w", Gone("gone away")), wantStatus: 410, wantBody: "gone away"},
		{name: "500 hides cause", err: InternalServerError(errors.New("db password wrong")), wantStatus: 500,
			wantBody: "Internal Server Error"},
		{name: "bad status is 500", err: &Error{Status: 42}, wantStatus: 500},
		{name: "extra header", err: &Error{Status: 429, Header: http.Header{"Retry-After": {"5"}}}, wantStatus: 429,
			wantHeader: map[string]string{"Retry-After": "5"}},
		{name: "json by accept", err: NotFound("x"), accept: "application/json", wantStatus: 404,
			wantHeader: map[string]string{"Content-Type": "application/json"}, wantBody: `{"status":404,"message":"x"}`},
		{name: "html by accept", err: NotFound("<b>"), accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", wantStatus: 404,
			wantHeader: map[string]string{"Content-Type": "text/html; charset=utf-8"}, wantBody: "<p>&lt;b&gt;</p>"},
		{name: "json q lower than html", err: NotFound("x"), accept: "application/json;q=0.5, text/html", wantStatus: 404,
			wantHeader: map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{name: "text forced", err: NotFound("x"), accept: "text/html", format: Text, wantStatus: 404,
			wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "head has no body", err: NotFound("x"), method: "HEAD", wantStatus: 404, wantBody: "-"},
	}
	for _, tt := range tests {
		for _, how := range []string{"panic", "return"} {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				f, err := New(Options{Format: tt.format})
				if err != nil {
					t.Fatal(err)
				}
				var h http.Handler
				if how == "panic" {
					h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Content-Length", "99")
						panic(tt.err)
					})
				} else {
					h = HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return tt.err })
				}
				method := tt.method
				if method == "" {
					method = "GET"
				}
				req := httptest.NewRequest(method, "/a/b", nil)
				if tt.accept != "" {
					req.Header.Set("Accept", tt.accept)
				}
				rec := httptest.NewRecorder()
				f(h).ServeHTTP(rec, req)
				if rec.Code != tt.wantStatus {
					t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
				}
				for k, v := range tt.wantHeader {
					if got := rec.Header().Get(k); got != v {
						t.Errorf("%s = %q, want %q", k, got, v)
					}
				}
				if got := rec.Header().Get("Content-Length"); got == "99" {
					t.Errorf("stale Content-Length kept")
				}
				body := rec.Body.String()
				if tt.wantBody == "-" && body != "" {
					t.Errorf("body = %q, want empty", body)
				} else if tt.wantBody != "-" && !strings.Contains(body, tt.wantBody) {
					t.Errorf("body = %q, want it to contain %q", body, tt.wantBody)
				}
				if strings.Contains(body, "password") {
					t.Errorf("body %q leaks the cause", body)
				}
			})
		}
	}
}

func TestOtherPanicsPassThrough(t *testing.T) {
	f, _ := New(Options{})
	for _, v := range []any{"boom", errors.New("plain"), http.ErrAbortHandler} {
		h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(v) }))
		func() {
			defer func() {
				if got := recover(); got != v {
					t.Errorf("recovered %v, want %v", got, v)
				}
			}()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}()
	}
}

func TestReturnedPlainErrorPanics(t *testing.T) {
	want := errors.New("plain")
	h := HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return want })
	defer func() {
		if got := recover(); got != want {
			t.Errorf("recovered %v, want %v", got, want)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestAfterStartAborts(t *testing.T) {
	f, _ := New(Options{})
	h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("partial"))
		panic(NotFound(""))
	}))
	defer func() {
		if got := recover(); got != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", got)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// TestStreaming checks that a flushing handler behind the filter reaches
// the client chunk by chunk, over a real connection.
func TestStreaming(t *testing.T) {
	f, _ := New(Options{})
	wiretest.Streams(t, f, "/")
}

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		local   map[string]string
		wantErr string
	}{
		{name: "defaults"},
		{name: "format json", local: map[string]string{"format": "json"}},
		{name: "bad format", local: map[string]string{"format": "xml"}, wantErr: `key "format"`},
	}
	for _, alias := range []string{"httpexceptions", "egg:Paste#httpexceptions"} {
		for _, tt := range tests {
			t.Run(alias+"/"+tt.name, func(t *testing.T) {
				registrytest.CheckFilter(t, alias, "filter:hx", "/tmp/t.ini", tt.local, tt.wantErr)
			})
		}
	}
}

func TestFailApp(t *testing.T) {
	tests := []struct {
		name       string
		local      map[string]string
		wantErr    string
		wantStatus int    // behind the filter; 0 means a plain panic
		wantPanic  string // the plain panic value
	}{
		{name: "plain panic", wantPanic: "deliberate failure"},
		{name: "message", local: map[string]string{"message": "db down"}, wantPanic: "db down"},
		{name: "404", local: map[string]string{"status": "404"}, wantStatus: 404},
		{name: "redirect", local: map[string]string{"status": "303", "location": "/x"}, wantStatus: 303},
		{name: "bad status", local: map[string]string{"status": "200"}, wantErr: `key "status"`},
		{name: "status not a number", local: map[string]string{"status": "lots"}, wantErr: `key "status"`},
		{name: "redirect without location", local: map[string]string{"status": "302"}, wantErr: `key "location"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var local []registry.Entry
			for k, v := range tt.local {
				local = append(local, registry.Entry{Key: k, Value: v, Origin: "t.ini:2"})
			}
			c := registry.NewConfig(registry.App, "app:f", "t.ini:1", "/tmp/t.ini", nil, local, nil, nil)
			p, ok := registry.Default.Lookup(registry.App, "fail")
			if !ok {
				t.Fatal("fail is not registered")
			}
			h, err := p.App(c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f, _ := New(Options{})
			rec := httptest.NewRecorder()
			func() {
				defer func() {
					v := recover()
					if tt.wantPanic != "" && v != tt.wantPanic {
						t.Errorf("panic %v, want %q", v, tt.wantPanic)
					}
					if tt.wantPanic == "" && v != nil {
						t.Errorf("panic %v", v)
					}
				}()
				f(h).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			}()
			if tt.wantStatus != 0 && rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
		})
	}
}
