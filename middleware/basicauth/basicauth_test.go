package basicauth

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/auth/htpasswd"
	"github.com/gopaste/gopaste/registry"
)

var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "user="+auth.User(r.Context()))
})

func writeUsers(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.htpasswd")
	content := "alice:" + htpasswd.APR1("wonderland", "abcdefgh") + "\n" +
		"bob:" + htpasswd.SHA1("builder") + "\n" +
		// htpasswd -nbB -C 4 carol x
		"carol:$2y$04$vxNaMEDlE4VyvSXW040W6OsiolSjagYVeKy0vN7r7J.b.GInvupxe\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBasicAuth(t *testing.T) {
	f, err := htpasswd.Open(writeUsers(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mw, err := New(Options{Realm: "Staff only", Users: f})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(whoami)
	tests := []struct {
		name       string
		user, pass string
		header     string // raw Authorization, when set
		want       int
		body       string
	}{
		{name: "no credentials", want: 401},
		{name: "apr1", user: "alice", pass: "wonderland", want: 200, body: "user=alice"},
		{name: "sha1", user: "bob", pass: "builder", want: 200, body: "user=bob"},
		{name: "bcrypt", user: "carol", pass: "x", want: 200, body: "user=carol"},
		{name: "wrong password", user: "alice", pass: "Wonderland", want: 401},
		{name: "unknown user", user: "mallory", pass: "x", want: 401},
		{name: "empty user", user: "", pass: "", want: 401},
		{name: "not basic", header: "Bearer abc", want: 401},
		{name: "bad base64", header: "Basic !!!", want: 401},
		{name: "no colon", header: "Basic YWxpY2U=", want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x", nil)
			switch {
			case tt.header != "":
				r.Header.Set("Authorization", tt.header)
			case tt.user != "" || tt.pass != "":
				r.SetBasicAuth(tt.user, tt.pass)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if tt.want == 401 {
				if got, want := w.Header().Get("WWW-Authenticate"), `Basic realm="Staff only", charset="UTF-8"`; got != want {
					t.Errorf("WWW-Authenticate = %q, want %q", got, want)
				}
				if strings.Contains(w.Body.String(), "user=") {
					t.Error("next handler ran for a rejected request")
				}
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body = %q, want %q", w.Body.String(), tt.body)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	users, _ := htpasswd.Parse(strings.NewReader(""))
	for _, o := range []Options{
		{},
		{Users: users, Realm: `say "hi"`},
		{Users: users, Realm: "a\nb"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func newConfig(local map[string]string, file string) *registry.Config {
	var es []registry.Entry
	for k, v := range local {
		es = append(es, registry.Entry{Key: k, Value: v})
	}
	return registry.NewConfig(registry.Filter, "filter:auth", "t.ini:1", file, nil, es, nil, slog.New(slog.DiscardHandler))
}

func TestFactory(t *testing.T) {
	users := writeUsers(t)
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("nocolon\n"), 0o600)
	tests := []struct {
		name    string
		keys    map[string]string
		wantKey string // "" means success
	}{
		{name: "ok", keys: map[string]string{"htpasswd": users, "realm": "R"}},
		{name: "relative path", keys: map[string]string{"htpasswd": filepath.Base(users)}},
		{name: "missing htpasswd", keys: map[string]string{"realm": "R"}, wantKey: "htpasswd"},
		{name: "unreadable htpasswd", keys: map[string]string{"htpasswd": users + ".nope"}, wantKey: "htpasswd"},
		{name: "bad htpasswd", keys: map[string]string{"htpasswd": bad}, wantKey: "htpasswd"},
		{name: "bad realm", keys: map[string]string{"htpasswd": users, "realm": `"`}, wantKey: "realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConfig(tt.keys, filepath.Join(filepath.Dir(users), "t.ini"))
			mw, err := factory(c)
			if tt.wantKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Unread()) != 0 {
					t.Errorf("unread keys %v", c.Unread())
				}
				if got := c.Watched(); len(got) != 1 || got[0] != users {
					t.Errorf("Watched = %v, want [%s]", got, users)
				}
				r := httptest.NewRequest("GET", "/", nil)
				r.SetBasicAuth("bob", "builder")
				w := httptest.NewRecorder()
				mw(whoami).ServeHTTP(w, r)
				if w.Body.String() != "user=bob" {
					t.Errorf("body = %q", w.Body.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), `key "`+tt.wantKey+`"`) {
				t.Errorf("err = %v, want one naming key %q", err, tt.wantKey)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"basicauth", "egg:Paste#auth_basic"} {
		if _, ok := registry.Default.Lookup(registry.Filter, name); !ok {
			t.Errorf("filter %q not registered", name)
		}
	}
}
