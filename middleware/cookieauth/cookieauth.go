// Package cookieauth implements login by a signed cookie, as Paste's
// auth_tkt did: a filter that reads the cookie and puts its user in the
// request context ([auth.User]), and a login app that checks a user name
// and password against an htpasswd file and sets the cookie. The login
// app's forms carry a CSRF token bound to a cookie, cross-origin POSTs
// are refused, and logging out takes a POST (see [NewLogin]).
//
// The cookie ("ticket") holds the user name, the time it was issued and
// the time it expires, signed with HMAC-SHA256 under a secret. Secrets
// rotate: a ticket signed with one of the old secrets is still accepted
// (and reissued under the current one); new tickets are always signed
// with the current secret. The cookie is not encrypted: the user name is
// readable by whoever holds the cookie, as with auth_tkt.
//
// Ticket format, in the cookie value:
//
//	base64url(user) "." issued "." expires "." base64url(HMAC-SHA256(secret, "gopaste-ticket-v1|" name "|" payload))
//
// where issued and expires are Unix seconds and payload is everything
// before the last ".". The cookie name is under the MAC, so a ticket set
// for one cookie name is not accepted under another.
package cookieauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of [Cookie].
const (
	DefaultName    = "auth_tkt"
	DefaultTimeout = 24 * time.Hour
	// MinSecretLength is the shortest secret accepted, in bytes.
	MinSecretLength = 16
	// maxCookieLength bounds the cookie values looked at.
	maxCookieLength = 4096
)

// Cookie says how the login cookie is named, signed and set; the filter and
// the login app that work together share one.
type Cookie struct {
	// Name is the cookie's name; "" means "auth_tkt".
	Name string
	// Secret signs new tickets. Required, at least MinSecretLength bytes.
	Secret string
	// OldSecrets are former secrets whose tickets are still accepted.
	OldSecrets []string
	// Timeout is how long a ticket is valid after it was issued; zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Secure sets the cookie's Secure attribute (send over HTTPS only).
	Secure bool
	// NoHTTPOnly leaves the HttpOnly attribute off, letting scripts in the
	// page read the cookie; by default it is set.
	NoHTTPOnly bool
}

func (c *Cookie) validate() error {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if !isToken(c.Name) {
		return fmt.Errorf("cookieauth: cookie name %q is not an HTTP token", c.Name)
	}
	if len(c.Secret) < MinSecretLength {
		return fmt.Errorf("cookieauth: secret must be at least %d bytes", MinSecretLength)
	}
	for _, s := range c.OldSecrets {
		if len(s) < MinSecretLength {
			return fmt.Errorf("cookieauth: old secrets must be at least %d bytes", MinSecretLength)
		}
	}
	if c.Timeout < 0 {
		return errors.New("cookieauth: negative timeout")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) {
			return false
		}
	}
	return true
}

// Ticket is what a valid cookie says.
type Ticket struct {
	User    string
	Issued  time.Time
	Expires time.Time
	// Old is set when the ticket was signed with one of the old secrets.
	Old bool
}

func mac(secret, name, payload string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("gopaste-ticket-v1|"))
	m.Write([]byte(name))
	m.Write([]byte("|"))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

var b64 = base64.RawURLEncoding

// Sign returns the cookie value of a ticket for user issued at now.
func (c *Cookie) Sign(user string, now time.Time) string {
	payload := b64.EncodeToString([]byte(user)) + "." +
		strconv.FormatInt(now.Unix(), 10) + "." +
		strconv.FormatInt(now.Add(c.Timeout).Unix(), 10)
	return payload + "." + b64.EncodeToString(mac(c.Secret, c.Name, payload))
}

// Verify checks a cookie value at time now: its signature under the
// secret or an old secret, its format and its expiry.
func (c *Cookie) Verify(value string, now time.Time) (Ticket, bool) {
	if len(value) > maxCookieLength {
		return Ticket{}, false
	}
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return Ticket{}, false
	}
	payload, sigText := value[:i], value[i+1:]
	sig, err := b64.DecodeString(sigText)
	if err != nil || len(sig) != sha256.Size {
		return Ticket{}, false
	}
	old := false
	if !hmac.Equal(sig, mac(c.Secret, c.Name, payload)) {
		ok := false
		for _, s := range c.OldSecrets {
			if hmac.Equal(sig, mac(s, c.Name, payload)) {
				ok = true
				break
			}
		}
		if !ok {
			return Ticket{}, false
		}
		old = true
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return Ticket{}, false
	}
	user, err := b64.DecodeString(parts[0])
	if err != nil || len(user) == 0 {
		return Ticket{}, false
	}
	issued, err1 := strconv.ParseInt(parts[1], 10, 64)
	expires, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return Ticket{}, false
	}
	t := Ticket{User: string(user), Issued: time.Unix(issued, 0), Expires: time.Unix(expires, 0), Old: old}
	// A ticket ends at its own expiry or at issue + the timeout now in
	// force, whichever is first: shortening the timeout applies at once.
	if !now.Before(t.Expires) || !now.Before(t.Issued.Add(c.Timeout)) || now.Add(time.Minute).Before(t.Issued) {
		return Ticket{}, false
	}
	return t, true
}

// set adds a Set-Cookie header carrying a fresh ticket for user.
func (c *Cookie) set(w http.ResponseWriter, user string, now time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name:     c.Name,
		Value:    c.Sign(user, now),
		Path:     "/",
		MaxAge:   int(c.Timeout / time.Second),
		Secure:   c.Secure,
		HttpOnly: !c.NoHTTPOnly,
		SameSite: http.SameSiteLaxMode,
	})
}

// clear adds a Set-Cookie header that removes the cookie.
func (c *Cookie) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     c.Name,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Secure:   c.Secure,
		HttpOnly: !c.NoHTTPOnly,
		SameSite: http.SameSiteLaxMode,
	})
}

// read returns the valid ticket among the request's cookies named c.Name.
func (c *Cookie) read(r *http.Request, now time.Time) (Ticket, bool) {
	for _, ck := range r.CookiesNamed(c.Name) {
		if t, ok := c.Verify(ck.Value, now); ok {
			return t, true
		}
	}
	return Ticket{}, false
}
