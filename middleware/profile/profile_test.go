package profile

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
)

var next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "next saw "+r.URL.String())
})

func TestProfile(t *testing.T) {
	mw, err := New(Options{Key: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(next)
	symbolPC := reflect.ValueOf(TestProfile).Pointer()
	tests := []struct {
		name        string
		method      string
		target      string
		header      string
		body        string
		status      int
		contains    []string
		absent      []string
		contentType string
		gzip        bool
	}{
		{name: "no key passes through", target: "/_profile/", status: 200, contains: []string{"next saw /_profile/"}},
		{name: "wrong key passes through", target: "/_profile/heap?key=guess", status: 200, contains: []string{"next saw /_profile/heap?key=guess"}},
		{name: "empty key passes through", target: "/_profile/?key=", status: 200, contains: []string{"next saw"}},
		{name: "outside prefix", target: "/other?key=s3cret", status: 200, contains: []string{"next saw /other?key=s3cret"}},
		{name: "prefix without slash", target: "/_profile?key=s3cret", status: 200, contains: []string{"next saw"}},
		{name: "index", target: "/_profile/?key=s3cret", status: 200, contentType: "text/html; charset=utf-8",
			contains: []string{"<h1>Profiles</h1>", `href="heap?debug=1&amp;key=s3cret"`, `href="goroutine?debug=1&amp;key=s3cret"`}},
		{name: "index by header keeps key out of links", target: "/_profile/", header: "s3cret", status: 200,
			contains: []string{`href="heap?debug=1"`}, absent: []string{"s3cret"}},
		{name: "goroutine text", target: "/_profile/goroutine?debug=1&key=s3cret", status: 200, contentType: "text/plain; charset=utf-8",
			contains: []string{"goroutine profile:"}},
		{name: "heap proto", target: "/_profile/heap?gc=1&key=s3cret", status: 200, contentType: "application/octet-stream", gzip: true},
		{name: "cmdline", target: "/_profile/cmdline", header: "s3cret", status: 200, contains: []string{os.Args[0]}},
		{name: "symbol", method: "POST", target: "/_profile/symbol", header: "s3cret", body: fmt.Sprintf("%#x+0x0", symbolPC), status: 200,
			contains: []string{"num_symbols: 1", runtime.FuncForPC(symbolPC).Name()}},
		{name: "cpu profile", target: "/_profile/profile?seconds=0.05&key=s3cret", status: 200, contentType: "application/octet-stream", gzip: true},
		{name: "trace", target: "/_profile/trace?seconds=0.05&key=s3cret", status: 200, contentType: "application/octet-stream", contains: []string{"go 1."}},
		{name: "bad seconds", target: "/_profile/profile?seconds=9999&key=s3cret", status: 400},
		{name: "unknown profile", target: "/_profile/nope?key=s3cret", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			r := httptest.NewRequest(method, tt.target, strings.NewReader(tt.body))
			if tt.header != "" {
				r.Header.Set("X-Profile-Key", tt.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %.200q", w.Code, tt.status, w.Body)
			}
			body := w.Body.String()
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q: %.300q", s, body)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(body, s) {
					t.Errorf("body has %q", s)
				}
			}
			if tt.contentType != "" && w.Header().Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type = %q, want %q", w.Header().Get("Content-Type"), tt.contentType)
			}
			if tt.gzip && !strings.HasPrefix(body, "\x1f\x8b") {
				t.Errorf("body is not a gzipped profile: %.20q", body)
			}
		})
	}
}

func TestCustomPrefix(t *testing.T) {
	mw, err := New(Options{Prefix: "/debug/pprof/", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	mw(next).ServeHTTP(w, httptest.NewRequest("GET", "/debug/pprof/goroutine?debug=1&key=k", nil))
	if !strings.Contains(w.Body.String(), "goroutine profile:") {
		t.Errorf("body %.100q", w.Body)
	}
	w = httptest.NewRecorder()
	mw(next).ServeHTTP(w, httptest.NewRequest("GET", "/_profile/goroutine?debug=1&key=k", nil))
	if !strings.Contains(w.Body.String(), "next saw") {
		t.Errorf("default prefix served with a custom one: %.100q", w.Body)
	}
}

func TestNewErrors(t *testing.T) {
	for _, o := range []Options{{}, {Key: "k", Prefix: "/"}, {Key: "k", Prefix: "x/"}, {Key: "k", Prefix: "/x"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		keys    []registry.Entry
		wantKey string
	}{
		{name: "ok", keys: []registry.Entry{{Key: "key", Value: "k"}, {Key: "prefix", Value: "/p/"}}},
		{name: "no key", keys: []registry.Entry{{Key: "prefix", Value: "/p/"}}, wantKey: "key"},
		{name: "bad prefix", keys: []registry.Entry{{Key: "key", Value: "k"}, {Key: "prefix", Value: "p"}}, wantKey: "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := registry.NewConfig(registry.Filter, "filter:p", "t.ini:1", "/tmp/t.ini", nil, tt.keys, nil, slog.New(slog.DiscardHandler))
			mw, err := factory(c)
			if tt.wantKey == "" {
				if err != nil || mw == nil {
					t.Fatal(err)
				}
				if u := c.Unread(); len(u) != 0 {
					t.Errorf("unread %v", u)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), `key "`+tt.wantKey+`"`) {
				t.Errorf("err = %v, want one naming key %q", err, tt.wantKey)
			}
		})
	}
	if _, ok := registry.Default.Lookup(registry.Filter, "egg:Paste#profile"); !ok {
		t.Error("alias egg:Paste#profile not registered")
	}
}

// TestShortKeyWarnsIssue12: a key shorter than MinKeyLength can be
// guessed; the factory warns about it (gopaste check prints it, serve
// logs it).
func TestShortKeyWarnsIssue12(t *testing.T) {
	for key, want := range map[string]bool{"k": true, "secret123": true, "long-random-key-0123456789": false} {
		c := registry.NewConfig(registry.Filter, "filter:p", "t.ini:1", "/tmp/t.ini", nil,
			[]registry.Entry{{Key: "key", Value: key, Origin: "t.ini:3"}}, nil, slog.New(slog.DiscardHandler))
		if _, err := factory(c); err != nil {
			t.Fatal(err)
		}
		ws := c.Warnings()
		if got := len(ws) == 1 && ws[0].Key == "key" && ws[0].Origin == "t.ini:3" && strings.Contains(ws[0].Msg, "can be guessed"); got != want || !want && len(ws) != 0 {
			t.Errorf("key %q: warnings %+v, want one: %v", key, ws, want)
		}
	}
}
