package rewrite

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
)

var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, r.URL.Path+" raw="+r.URL.RawPath+" q="+r.URL.RawQuery+" form="+r.FormValue("a"))
})

func mustRule(t *testing.T, s string, def int) Rule {
	t.Helper()
	r, err := ParseRule(s, def)
	if err != nil {
		t.Fatalf("ParseRule(%q): %v", s, err)
	}
	return r
}

func TestRewrite(t *testing.T) {
	rules := []Rule{
		mustRule(t, `^/old/(.*)$ /new/$1`, 0),
		mustRule(t, `^/blog/(?P<year>\d{4})/(?P<slug>[^/]+)$ /posts?year=${year}&slug=${slug}`, 0),
		mustRule(t, `^/moved/(.*)$ /elsewhere/$1 301`, 0),
		mustRule(t, `^/away$ https://example.org/there 308`, 0),
		mustRule(t, `^/go/(.*)$ /$1 302`, 0),
		mustRule(t, `^/old/special$ /never`, 0), // shadowed by rule 1
		mustRule(t, `^/rel/(.*)$ $1 302`, 0),
		mustRule(t, `^/up/x-(.*)$ /a/$1`, 0),
	}
	mw, err := New(Options{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(echo)
	tests := []struct {
		name     string
		target   string
		status   int
		body     string
		location string
	}{
		{name: "no match", target: "/other?a=1", status: 200, body: "/other raw= q=a=1 form=1"},
		{name: "rewrite keeps query", target: "/old/x/y?a=1", status: 200, body: "/new/x/y raw= q=a=1 form=1"},
		{name: "first match wins", target: "/old/special", status: 200, body: "/new/special raw= q= form="},
		{name: "target query replaces", target: "/blog/2024/hello?a=1", status: 200, body: "/posts raw= q=year=2024&slug=hello form="},
		{name: "escaped path stays escaped", target: "/old/a%2Fb%3Fc", status: 200, body: "/new/a/b?c raw=/new/a%2Fb%3Fc q= form="},
		{name: "redirect 301 keeps query", target: "/moved/page?a=1&b=2", status: 301, location: "/elsewhere/page?a=1&b=2"},
		{name: "absolute redirect", target: "/away", status: 308, location: "https://example.org/there"},
		{name: "unclean path redirected first", target: "/go//evil.example/x", status: 301, location: "/go/evil.example/x"},
		{name: "unclean escaped path redirected first", target: "/go/%2F%2Fevil.example/x", status: 301, location: "/go/evil.example/x"},
		{name: "no open redirect", target: "/go/evil.example/x", status: 302, location: "/evil.example/x"},
		{name: "no host from a relative target", target: "/rel/http:/evil.example", status: 400},
		{name: "relative target escaped backslash", target: `/rel/%5C%5Cevil.example`, status: 302, location: "/rel/%5C%5Cevil.example"},
		{name: "relative target stays", target: "/rel/page", status: 302, location: "/rel/page"},
		{name: "rewrite output cleaned", target: "/up/x-../admin", status: 200, body: "/admin raw= q= form="},
		{name: "no open redirect backslash", target: `/go/%5C%5Cevil.example`, status: 302, location: "/%5C%5Cevil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", tt.target, nil))
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (body %q)", w.Code, tt.status, w.Body)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body = %q, want %q", w.Body.String(), tt.body)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
		})
	}
}

func TestRewriteDoesNotChangeCaller(t *testing.T) {
	mw, _ := New(Options{Rules: []Rule{mustRule(t, `^/a$ /b?x=1`, 0)}})
	r := httptest.NewRequest("GET", "/a?y=2", nil)
	mw(echo).ServeHTTP(httptest.NewRecorder(), r)
	if r.URL.Path != "/a" || r.URL.RawQuery != "y=2" {
		t.Errorf("caller's request changed to %s", r.URL)
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		in      string
		def     int
		status  int
		wantErr string
	}{
		{in: `^/a$ /b`, status: 0},
		{in: `^/a$ /b`, def: 302, status: 302},
		{in: `^/a$   /b   307`, status: 307},
		{in: `^/a$ /b 303`, status: 303},
		{in: `^/a$`, wantErr: "fields"},
		{in: `^/a$ /b 302 extra`, wantErr: "fields"},
		{in: `^/(a$ /b`, wantErr: "regular expression"},
		{in: `^/a$ /b 200`, wantErr: "not a redirect"},
		{in: `^/a$ /b abc`, wantErr: "not a number"},
		{in: `^/a$ b`, wantErr: "must start with /"},
		{in: `^/a$ http://x/%zz 302`, wantErr: "not a URL"},
		{in: `^/a$ http://x/ok 302`, status: 302},
	}
	for _, tt := range tests {
		r, err := ParseRule(tt.in, tt.def)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRule(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || r.Status != tt.status {
			t.Errorf("ParseRule(%q) = status %d, %v; want %d", tt.in, r.Status, err, tt.status)
		}
	}
}

func config(local []registry.Entry) *registry.Config {
	return registry.NewConfig(registry.Filter, "filter:r", "t.ini:1", "/tmp/t.ini", nil, local, nil, slog.New(slog.DiscardHandler))
}

func TestFactoryOrder(t *testing.T) {
	// Keys in file order 10, 2: rule 2 must be tried first.
	c := config([]registry.Entry{
		{Key: "rule 10", Value: `^/x/(.*)$ /ten/$1 301`},
		{Key: "rule 2", Value: `^/x/a$ /two 307`},
	})
	mw, err := factory(c, http.StatusFound)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/x/a": "/two", "/x/b": "/ten/b"} {
		w := httptest.NewRecorder()
		mw(echo).ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if got := w.Header().Get("Location"); got != want {
			t.Errorf("%s: Location %q, want %q", path, got, want)
		}
	}
	// The redirect filter's default status is 302.
	c = config([]registry.Entry{{Key: "rule 1", Value: `^/a$ /b`}})
	mw, err = factory(c, http.StatusFound)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	mw(echo).ServeHTTP(w, httptest.NewRequest("GET", "/a", nil))
	if w.Code != 302 {
		t.Errorf("redirect default status %d, want 302", w.Code)
	}
}

func TestFactoryErrors(t *testing.T) {
	tests := []struct {
		name    string
		keys    []registry.Entry
		def     int
		wantKey string
	}{
		{name: "bad regex", keys: []registry.Entry{{Key: "rule 1", Value: `( /x`}}, wantKey: "rule 1"},
		{name: "bad number", keys: []registry.Entry{{Key: "rule one", Value: `^/ /x`}}, wantKey: "rule one"},
		{name: "no number", keys: []registry.Entry{{Key: "rules", Value: `^/ /x`}}, wantKey: "rules"},
		{name: "duplicate number", keys: []registry.Entry{{Key: "rule 1", Value: `^/a /x`}, {Key: "rule 01", Value: `^/b /y`}}, wantKey: "rule 01"},
		{name: "bad status", keys: []registry.Entry{{Key: "rule 3", Value: `^/a /x 404`}}, wantKey: "rule 3"},
		{name: "relative rewrite", keys: []registry.Entry{{Key: "rule 3", Value: `^/a x`}}, wantKey: "rule 3"},
		{name: "redirect bad status", def: 302, keys: []registry.Entry{{Key: "rule 1", Value: `^/a /x 200`}}, wantKey: "rule 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := factory(config(tt.keys), tt.def)
			if err == nil || !strings.Contains(err.Error(), `key "`+tt.wantKey+`"`) {
				t.Errorf("err = %v, want one naming key %q", err, tt.wantKey)
			}
		})
	}
	if _, err := factory(config(nil), 0); err == nil || !strings.Contains(err.Error(), "no rules") {
		t.Errorf("no rules: err = %v", err)
	}
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"rewrite", "redirect"} {
		if _, ok := registry.Default.Lookup(registry.Filter, name); !ok {
			t.Errorf("filter %q not registered", name)
		}
	}
}

func mustCompile(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func TestRuleLeaves(t *testing.T) {
	rel, abs, path := Rule{Target: "$1"}, Rule{Target: "https://$1.example.org/"}, Rule{Target: "/$1"}
	for _, tc := range []struct {
		r      Rule
		target string
		want   bool
	}{
		{rel, "page", false},
		{rel, "http:/evil.example", true},
		{rel, "//evil.example", true},
		{rel, `\\evil.example`, true},
		{rel, `/\evil.example`, true},
		{abs, "https://a.example.org/", false},
		{path, "/x", false},
	} {
		if got := tc.r.leaves(tc.target); got != tc.want {
			t.Errorf("Rule{Target: %q}.leaves(%q) = %v, want %v", tc.r.Target, tc.target, got, tc.want)
		}
	}
}
