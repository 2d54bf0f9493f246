// Package csrf binds a form's token to the client it was given to, so
// that a form posted from another site is refused. The client holds a
// random value (in its session, or in a cookie [Cookie] sets) and the
// form carries a token: the HMAC-SHA256 of that value under a server key
// and a purpose string. A POST whose token is not the token of the
// client's value did not come from a form this server gave that client.
//
// It is the one CSRF token scheme of gopaste: the login app
// (middleware/cookieauth) and package form both use it. It does not
// check Origin or Sec-Fetch-Site; callers pair it with
// [http.CrossOriginProtection].
package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// Value lengths a client may present; other values are replaced.
const (
	minValue = 16
	maxValue = 64
)

// NewValue returns a fresh random binding value (26 characters).
func NewValue() string { return rand.Text() }

// Sign returns the token of binding value v: base64url (no padding) of
// HMAC-SHA256(key, purpose "|" v). The purpose separates the tokens of
// different forms signed with one key.
func Sign(key []byte, purpose, v string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte("|"))
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Valid reports, in constant time, whether token is the token of v. An
// empty v or token is never valid.
func Valid(key []byte, purpose, v, token string) bool {
	if v == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(Sign(key, purpose, v)))
}

// ValidValue reports whether v looks like a value [NewValue] made: one a
// client may present back.
func ValidValue(v string) bool { return len(v) >= minValue && len(v) <= maxValue }

// Cookie binds tokens to a cookie holding a random value: HttpOnly,
// SameSite=Lax, Path=/, a browser session's lifetime. The key must be
// secret: a client can set its own cookie value (from a sibling
// subdomain, say) but cannot sign it. A Cookie is safe for concurrent
// use once set up.
type Cookie struct {
	Name    string // the cookie's name; required
	Key     []byte // the HMAC key, a server secret; required
	Purpose string // see [Sign]
	Secure  bool   // the cookie's Secure attribute
}

// Token returns the token a form answering r carries, setting a fresh
// cookie on w (before the header is written) when r has no usable one.
func (c *Cookie) Token(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(c.Name); err == nil && ValidValue(ck.Value) {
		return Sign(c.Key, c.Purpose, ck.Value)
	}
	v := NewValue()
	http.SetCookie(w, &http.Cookie{
		Name:     c.Name,
		Value:    v,
		Path:     "/",
		Secure:   c.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return Sign(c.Key, c.Purpose, v)
}

// Valid reports whether token is the token of r's cookie.
func (c *Cookie) Valid(r *http.Request, token string) bool {
	ck, err := r.Cookie(c.Name)
	if err != nil {
		return false
	}
	return Valid(c.Key, c.Purpose, ck.Value, token)
}
