package headers

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/registry"
)

func TestRules(t *testing.T) {
	app := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "php")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Cache-Control", "private")
		w.Header().Set("Link", "</a>; rel=preload")
		w.Write([]byte("body"))
	}
	silent := func(w http.ResponseWriter, r *http.Request) {}
	tests := []struct {
		name    string
		opts    Options
		handler http.HandlerFunc
		tls     bool
		want    map[string][]string // nil value: must be absent
	}{
		{
			name: "set add remove default",
			opts: Options{Rules: []Rule{
				{Set, "cache-control", "no-store"},
				{Add, "Link", "</b>; rel=preload"},
				{Remove, "X-Powered-By", ""},
				{Default, "X-Frame-Options", "SAMEORIGIN"},
				{Default, "X-Extra", "1"},
			}},
			handler: app,
			want: map[string][]string{
				"Cache-Control":   {"no-store"},
				"Link":            {"</a>; rel=preload", "</b>; rel=preload"},
				"X-Powered-By":    nil,
				"X-Frame-Options": {"DENY"},
				"X-Extra":         {"1"},
			},
		},
		{
			name:    "handler writes nothing",
			opts:    Options{Rules: []Rule{{Set, "X-A", "1"}}},
			handler: silent,
			want:    map[string][]string{"X-A": {"1"}},
		},
		{
			name:    "security preset keeps app values",
			opts:    Options{Preset: "security"},
			handler: app,
			want: map[string][]string{
				"X-Content-Type-Options":    {"nosniff"},
				"X-Frame-Options":           {"DENY"},
				"Referrer-Policy":           {"strict-origin-when-cross-origin"},
				"X-Powered-By":              nil,
				"Strict-Transport-Security": nil,
			},
		},
		{
			name:    "security preset over https",
			opts:    Options{Preset: "security"},
			handler: silent,
			tls:     true,
			want: map[string][]string{
				"X-Frame-Options":           {"SAMEORIGIN"},
				"Strict-Transport-Security": {hsts},
			},
		},
		{
			name:    "rules after preset",
			opts:    Options{Preset: "security", Rules: []Rule{{Set, "X-Frame-Options", "DENY"}, {Remove, "Permissions-Policy", ""}}},
			handler: silent,
			want:    map[string][]string{"X-Frame-Options": {"DENY"}, "Permissions-Policy": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			// A real server shows what went out on the wire.
			rec := httptest.NewRecorder()
			f(tt.handler).ServeHTTP(rec, req)
			got := rec.Result().Header
			for k, want := range tt.want {
				if diff := cmp.Diff(want, got[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}

// TestAppliedBeforeFlush checks over a real connection that the rules are
// in the header a streaming handler flushes, and that the stream streams.
func TestAppliedBeforeFlush(t *testing.T) {
	f, _ := New(Options{Rules: []Rule{{Set, "X-Set", "yes"}}})
	if got := wiretest.Streams(t, f, "/").Get("X-Set"); got != "yes" {
		t.Errorf("X-Set = %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	for _, o := range []Options{
		{Preset: "paranoid"},
		{Rules: []Rule{{Set, "Bad Name", "x"}}},
		{Rules: []Rule{{Set, "X-A", "a\r\nInjected: 1"}}},
		{Rules: []Rule{{0, "X-A", "x"}}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
}

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		local   [][2]string
		wantErr string
		check   map[string][]string
	}{
		{name: "empty"},
		{name: "all verbs", local: [][2]string{
			{"preset", "security"},
			{"replace X-Frame-Options", "DENY"},
			{"add Link", "</x>; rel=preload"},
			{"default Cache-Control", "no-cache"},
			{"remove Server", ""},
			{"remove", "X-Powered-By X-AspNet-Version"},
		}, check: map[string][]string{"X-Frame-Options": {"DENY"}, "Link": {"</x>; rel=preload"}, "Cache-Control": {"no-cache"},
			"X-Content-Type-Options": {"nosniff"}, "Server": nil, "X-Powered-By": nil, "X-Aspnet-Version": nil}},
		{name: "lower-case key", local: [][2]string{{"replace x-frame-options", "DENY"}}, check: map[string][]string{"X-Frame-Options": {"DENY"}}},
		{name: "bad preset", local: [][2]string{{"preset", "max"}}, wantErr: `key "preset"`},
		{name: "bad name", local: [][2]string{{"replace X:Y", "1"}}, wantErr: `key "replace X:Y"`},
		{name: "no value", local: [][2]string{{"replace X-A", ""}}, wantErr: `key "replace X-A"`},
		{name: "no name", local: [][2]string{{"add", "1"}}, wantErr: `key "add"`},
		{name: "bad remove list", local: [][2]string{{"remove", "ok bad(name)"}}, wantErr: `key "remove"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var local []registry.Entry
			for _, kv := range tt.local {
				local = append(local, registry.Entry{Key: kv[0], Value: kv[1], Origin: "t.ini:2"})
			}
			c := registry.NewConfig(registry.Filter, "filter:h", "t.ini:1", "/tmp/t.ini", nil, local, nil, nil)
			p, ok := registry.Default.Lookup(registry.Filter, "headers")
			if !ok {
				t.Fatal("headers is not registered")
			}
			f, err := p.Filter(c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || f == nil {
				t.Fatalf("nil filter %v, err %v", f == nil, err)
			}
			if u := c.Unread(); len(u) != 0 {
				t.Errorf("unread keys %v", u)
			}
			rec := httptest.NewRecorder()
			f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Server", "x")
				w.Header().Set("X-Powered-By", "x")
			})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			for k, want := range tt.check {
				if diff := cmp.Diff(want, rec.Result().Header[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
		})
	}
}
