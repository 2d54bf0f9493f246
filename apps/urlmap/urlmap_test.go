package urlmap

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gopaste/gopaste/mount"
)

func echo(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name+" "+mount.ScriptName(r.Context())+" "+r.URL.Path)
	})
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		in   string
		want Mount
		bad  bool
	}{
		{in: "/", want: Mount{Prefix: "/"}},
		{in: "/blog", want: Mount{Prefix: "/blog"}},
		{in: "domain example.com /blog", want: Mount{Host: "example.com", Prefix: "/blog"}},
		{in: "port 8080 /x", want: Mount{Port: "8080", Prefix: "/x"}},
		{in: "domain example.com", want: Mount{Host: "example.com", Prefix: "/"}},
		{in: "http://example.com:81/a", want: Mount{Host: "example.com", Port: "81", Prefix: "/a"}},
		{in: "blog", bad: true},
		{in: "domain", bad: true},
		{in: "/a /b", bad: true},
		{in: "http:///x", bad: true},
	}
	for _, tc := range tests {
		got, err := ParseKey(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("ParseKey(%q) error = %v, want error %v", tc.in, err, tc.bad)
			continue
		}
		if !tc.bad && got != tc.want {
			t.Errorf("ParseKey(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestMapDispatch(t *testing.T) {
	m := New([]Mount{
		{Prefix: "/", Handler: echo("root")},
		{Prefix: "/a", Handler: echo("a")},
		{Prefix: "/a/b/", Handler: echo("ab")},
		{Host: "Example.ORG", Prefix: "/a", Handler: echo("host")},
	}, nil)
	tests := []struct{ host, path, want string }{
		{"x", "/a/b/c", "ab /a/b /c"},
		{"x", "/a/bc", "a /a /bc"},
		{"x", "/a", "a /a "},
		{"x", "/ab", "root  /ab"},
		{"example.org:8080", "/a/z", "host /a /z"},
		{"x", "/", "root  /"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", tc.path, nil)
		r.Host = tc.host
		w := httptest.NewRecorder()
		m.ServeHTTP(w, r)
		if w.Body.String() != tc.want {
			t.Errorf("%s%s = %q, want %q", tc.host, tc.path, w.Body, tc.want)
		}
	}
}

func TestMapNotFoundAndNesting(t *testing.T) {
	inner := New([]Mount{{Prefix: "/v1", Handler: echo("v1")}}, nil)
	outer := New([]Mount{{Prefix: "/api", Handler: inner}}, echo("nf"))
	w := httptest.NewRecorder()
	outer.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/users", nil))
	if w.Body.String() != "v1 /api/v1 /users" {
		t.Errorf("nested = %q", w.Body)
	}
	w = httptest.NewRecorder()
	outer.ServeHTTP(w, httptest.NewRequest("GET", "/other", nil))
	if w.Body.String() != "nf  /other" {
		t.Errorf("not found app = %q", w.Body)
	}
	w = httptest.NewRecorder()
	inner.ServeHTTP(w, httptest.NewRequest("GET", "/<script>", nil))
	if w.Code != 404 || w.Body.String() == "" || contains(w.Body.String(), "<script>") {
		t.Errorf("plain 404 = %d %q", w.Code, w.Body)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
