package htpasswd_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gopaste/gopaste/auth/htpasswd"
	"github.com/gopaste/gopaste/middleware/basicauth"
	"github.com/gopaste/gopaste/middleware/cookieauth"
)

// TestNoUserEnumerationByTimingIssue12 pins issue 12 item 6 where users
// meet it, in basicauth and in the login app: a wrong password for a
// known bcrypt user and any password for an unknown user take about the
// same time (medians of 15 tries each, within 0.5–2×). Before the fix the
// unknown user was checked against APR1, far below 0.5×.
func TestNoUserEnumerationByTimingIssue12(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("wonderland"), 4)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users.htpasswd")
	if err := os.WriteFile(path, []byte("alice:"+string(hash)+"\nbob:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := htpasswd.Open(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mw, err := basicauth.New(basicauth.Options{Users: users, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	basic := mw(http.NotFoundHandler())
	login, err := cookieauth.NewLogin(cookieauth.LoginOptions{
		Cookie: cookieauth.Cookie{Secret: strings.Repeat("s", 32)}, Users: users,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	// The login form's CSRF cookie and token, sent with every POST.
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest("GET", "/login", nil))
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(w.Body.String())
	cs := w.Result().Cookies()
	if m == nil || len(cs) != 1 {
		t.Fatalf("login form: cookies %v\n%s", cs, w.Body)
	}
	for name, try := range map[string]func(user string) int{
		"basicauth": func(user string) int {
			r := httptest.NewRequest("GET", "/", nil)
			r.SetBasicAuth(user, "wrong")
			w := httptest.NewRecorder()
			basic.ServeHTTP(w, r)
			return w.Code
		},
		"login": func(user string) int {
			form := url.Values{"user": {user}, "password": {"wrong"}, "csrf_token": {m[1]}}
			r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.AddCookie(cs[0])
			w := httptest.NewRecorder()
			login.ServeHTTP(w, r)
			return w.Code
		},
	} {
		t.Run(name, func(t *testing.T) {
			var known, unknown []time.Duration
			for range 15 {
				for _, u := range []string{"alice", "mallory"} {
					start := time.Now()
					if code := try(u); code != http.StatusUnauthorized {
						t.Fatalf("%s: status %d, want 401", u, code)
					}
					d := time.Since(start)
					if u == "alice" {
						known = append(known, d)
					} else {
						unknown = append(unknown, d)
					}
				}
			}
			k, u := median(known), median(unknown)
			ratio := float64(u) / float64(k)
			t.Logf("median known user %v, unknown user %v, ratio %.2f", k, u, ratio)
			if ratio < 0.5 || ratio > 2 {
				t.Errorf("unknown/known time ratio %.2f (medians %v vs %v): the user can be told by timing", ratio, u, k)
			}
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
