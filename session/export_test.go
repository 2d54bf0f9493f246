package session

import "net/http"

// CookieToken exposes the filter's cookie reader to the external tests.
func (m *Manager) CookieToken(r *http.Request) string { return m.cookieToken(r) }

// ValidToken exposes validToken to the external tests.
var ValidToken = validToken

// CanonicalTime and AppendTime expose the codec's time text shortcut.
var (
	CanonicalTime = canonicalTime
	AppendTime    = appendTime
)
