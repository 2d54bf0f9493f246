package form

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gopaste/gopaste/internal/csrf"
	"github.com/gopaste/gopaste/session"
)

// CSRFOptions configure [NewCSRF].
type CSRFOptions struct {
	// Secret signs the tokens. Required, at least 16 bytes; keep it
	// secret and the same across the processes serving the site.
	Secret string
	// CookieName is the cookie holding the token's value when a request
	// has no session; "" means "form_csrf".
	CookieName string
	// Secure sets that cookie's Secure attribute (HTTPS only).
	Secure bool
	// TrustedOrigins ("https://example.com") may post forms across
	// origins; see [http.CrossOriginProtection.AddTrustedOrigin].
	TrustedOrigins []string
}

// CSRF makes and checks the tokens of forms. Make one per application
// at start-up and pass it to every [New]; it is safe for concurrent use.
type CSRF struct {
	cookie csrf.Cookie
	cop    *http.CrossOriginProtection
}

// sessionKey is the session value holding the binding value.
const sessionKey = "gopaste.csrf"

const purpose = "gopaste-form-csrf-v1"

// NewCSRF validates o and returns the CSRF protection it describes.
func NewCSRF(o CSRFOptions) (*CSRF, error) {
	if len(o.Secret) < 16 {
		return nil, errors.New("form: CSRF secret must be at least 16 bytes")
	}
	if o.CookieName == "" {
		o.CookieName = "form_csrf"
	}
	if (&http.Cookie{Name: o.CookieName, Value: "x"}).Valid() != nil {
		return nil, fmt.Errorf("form: CSRF cookie name %q is not valid", o.CookieName)
	}
	c := &CSRF{
		cookie: csrf.Cookie{Name: o.CookieName, Key: []byte(o.Secret), Purpose: purpose, Secure: o.Secure},
		cop:    http.NewCrossOriginProtection(),
	}
	for _, origin := range o.TrustedOrigins {
		if err := c.cop.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("form: trusted origin: %w", err)
		}
	}
	return c, nil
}

// Token returns the token a form answering r carries: bound to r's
// session when it has one (a random value kept in the session), to a
// cookie set on w otherwise. Call it before the response header is
// written ([New] does).
func (c *CSRF) Token(w http.ResponseWriter, r *http.Request) string {
	if s := session.From(r.Context()); s != nil {
		v := s.GetString(sessionKey)
		if !csrf.ValidValue(v) {
			v = csrf.NewValue()
			if s.Put(sessionKey, v) != nil {
				// The session is saved already: bind to a cookie.
				return c.cookie.Token(w, r)
			}
		}
		return csrf.Sign(c.cookie.Key, purpose, v)
	}
	return c.cookie.Token(w, r)
}

// Valid reports whether the request r, a form submission, is
// same-origin as far as the browser tells, and token is the token of
// its session or of its cookie.
func (c *CSRF) Valid(r *http.Request, token string) bool {
	if c.cop.Check(r) != nil {
		return false
	}
	if s := session.From(r.Context()); s != nil {
		if csrf.Valid(c.cookie.Key, purpose, s.GetString(sessionKey), token) {
			return true
		}
	}
	return c.cookie.Valid(r, token)
}
