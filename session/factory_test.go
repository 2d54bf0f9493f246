package session_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/deploy"
	_ "github.com/gopaste/gopaste/session/filestore"
	_ "github.com/gopaste/gopaste/session/memstore"
	_ "github.com/gopaste/gopaste/session/pgstore"
	_ "github.com/gopaste/gopaste/session/redisstore"
	_ "github.com/gopaste/gopaste/session/sqlitestore"
)

func build(t *testing.T, ini string) (*deploy.App, string, error) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "site.ini")
	if err := os.WriteFile(cfg, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	app, err := deploy.BuildApp(cfg, "main", deploy.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Cleanup(func() { app.Close() })
	}
	return app, dir, err
}

func TestFactoryEveryKey(t *testing.T) {
	for _, store := range []string{"file", "sqlite"} {
		t.Run(store, func(t *testing.T) {
			path := "sessions"
			if store == "sqlite" {
				path = "sessions.db"
			}
			app, dir, err := build(t, `
[pipeline:main]
pipeline = sess info

[filter:sess]
use = egg:Beaker#beaker_session
store = `+store+`
path = `+path+`
cookie_name = sid
cookie_path = /
cookie_domain = example.org
secure = true
httponly = false
samesite = strict
idle_timeout = 30m
lifetime = 8h
lock = exclusive
lock_timeout = 5s
cleanup_interval = 1m
on_store_error = continue
conflict_status = 409

[app:info]
use = session_info
`)
			if err != nil {
				t.Fatal(err)
			}
			c := &client{t: t, h: app.Handler}
			c.info()
			// After a request: the sqlite store opens its database at first use.
			if _, err := os.Stat(filepath.Join(dir, path)); err != nil {
				t.Errorf("store path not relative to the config's directory: %v", err)
			}
			if got := c.info(); got.Visits != 2 {
				t.Errorf("visits = %d, want 2", got.Visits)
			}
			w := c.do("GET", "/", nil)
			sc := w.Header().Get("Set-Cookie")
			for _, want := range []string{"sid=", "Domain=example.org", "Secure", "SameSite=Strict", "Max-Age=1800"} {
				if !strings.Contains(sc, want) {
					t.Errorf("Set-Cookie %q lacks %q", sc, want)
				}
			}
			if strings.Contains(sc, "HttpOnly") {
				t.Errorf("Set-Cookie %q has HttpOnly with httponly = false", sc)
			}
		})
	}
}

func TestFactoryErrors(t *testing.T) {
	for _, tc := range []struct {
		name, keys, want string
	}{
		{"unknown store", "store = mongo", `unknown store "mongo"`},
		{"bad lock", "lock = sometimes", `"lock"`},
		{"bad on_store_error", "on_store_error = ignore", `"on_store_error"`},
		{"bad conflict_status", "conflict_status = 200", `"conflict_status"`},
		{"bad secure", "secure = maybe", `"secure"`},
		{"bad samesite", "samesite = loose", `"samesite"`},
		{"bad idle_timeout", "idle_timeout = soon", `"idle_timeout"`},
		{"zero lifetime", "lifetime = 0", `"lifetime"`},
		{"bad cookie name", "cookie_name = a;b", `"cookie_name"`},
		{"file without path", "store = file", `"path"`},
		{"redis without url", "store = redis", `"url"`},
		{"postgres without dsn", "store = postgres", `"dsn"`},
		{"key of another store", "store = memory\nurl = redis://x", `url`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := build(t, "[pipeline:main]\npipeline = sess info\n\n[filter:sess]\nuse = session\n"+tc.keys+"\n\n[app:info]\nuse = session_info\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestInfoWithoutFilter(t *testing.T) {
	w := httptest.NewRecorder()
	h := sessionInfo()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 {
		t.Errorf("session_info without the filter = %d, want 500", w.Code)
	}
}
