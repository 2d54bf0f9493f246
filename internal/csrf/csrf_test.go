package csrf_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/csrf"
)

var key = []byte("0123456789abcdef0123")

func TestSignValid(t *testing.T) {
	v := csrf.NewValue()
	tok := csrf.Sign(key, "p", v)
	for _, tc := range []struct {
		name            string
		key             []byte
		purpose, v, tok string
		want            bool
	}{
		{"same", key, "p", v, tok, true},
		{"other value", key, "p", csrf.NewValue(), tok, false},
		{"other purpose", key, "q", v, tok, false},
		{"other key", []byte("another secret key"), "p", v, tok, false},
		{"empty token", key, "p", v, "", false},
		{"empty value", key, "p", "", csrf.Sign(key, "p", ""), false},
		{"truncated", key, "p", v, tok[:len(tok)-1], false},
	} {
		if got := csrf.Valid(tc.key, tc.purpose, tc.v, tc.tok); got != tc.want {
			t.Errorf("%s: Valid = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Purpose and value are separated: ("a|b", "c") != ("a", "b|c") would
	// need the separator; pin that the purpose is part of the MAC input.
	if csrf.Sign(key, "ab", "c") == csrf.Sign(key, "a", "bc") {
		t.Error("purpose and value run together")
	}
}

func TestCookie(t *testing.T) {
	c := &csrf.Cookie{Name: "x_csrf", Key: key, Purpose: "test", Secure: true}
	w := httptest.NewRecorder()
	tok := c.Token(w, httptest.NewRequest("GET", "/", nil))
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != "x_csrf" || !cs[0].HttpOnly || !cs[0].Secure || cs[0].SameSite != http.SameSiteLaxMode || cs[0].Path != "/" {
		t.Fatalf("cookie %+v", cs)
	}
	post := func(cookie, token string) bool {
		r := httptest.NewRequest("POST", "/", strings.NewReader(""))
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: "x_csrf", Value: cookie})
		}
		return c.Valid(r, token)
	}
	if !post(cs[0].Value, tok) {
		t.Error("token of the cookie refused")
	}
	if post("", tok) {
		t.Error("token accepted without its cookie")
	}
	if post(csrf.NewValue(), tok) {
		t.Error("token accepted with another cookie")
	}
	// A second form for the same client reuses its cookie.
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cs[0])
	w = httptest.NewRecorder()
	if got := c.Token(w, r); got != tok || len(w.Result().Cookies()) != 0 {
		t.Errorf("second token %q (cookies %v), want %q and no new cookie", got, w.Result().Cookies(), tok)
	}
	// A cookie too short to be ours is replaced.
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "x_csrf", Value: "short"})
	w = httptest.NewRecorder()
	c.Token(w, r)
	if len(w.Result().Cookies()) != 1 {
		t.Error("short cookie value kept")
	}
}
