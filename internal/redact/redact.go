// Package redact hides secrets in what gopaste shows to people: the env
// app's config dump, the errors filter's debug page, its logs and mails.
// It is the one place that decides what looks secret.
//
// A value is hidden whole when its key looks secret ([SecretKey]); a
// URL's password ("redis://u:pw@host") is hidden under any key; in free
// text (a panic message), URL passwords and "key=value" / "key: value"
// pairs with a secret-looking key are hidden.
package redact

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Mask replaces a secret value.
const Mask = "********"

// urlMask replaces the password of a URL, keeping the URL readable.
const urlMask = "xxxxx"

// secretWords are the parts of a key name that mark its value secret.
var secretWords = []string{"pass", "pwd", "secret", "token", "key", "auth", "credential",
	"private", "salt", "signature", "session", "cookie", "csrf", "xsrf", "dsn"}

// SecretKey reports whether a key with this name probably holds a secret.
func SecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Value returns v as it may be shown under key: Mask when the key looks
// secret (and v is not empty), v with any URL password hidden otherwise.
func Value(key, v string) string {
	if SecretKey(key) && v != "" {
		return Mask
	}
	if strings.Contains(v, "@") && strings.Contains(v, "://") {
		if u, err := url.Parse(strings.TrimSpace(v)); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), urlMask)
				return u.String()
			}
		}
		return Text(v)
	}
	return v
}

// Map returns m with every value passed through Value.
func Map(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = Value(k, v)
	}
	return out
}

// The patterns are compiled on first use, not at start: every gopaste
// process links this package, few of them ever redact a message.
var (
	// scheme://user:password@ — the password up to the last @ before
	// the host.
	urlPassword = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*):[^\s/@]*@`)
	})
	// key=value, key: value, "key": "value", with a secret-looking key.
	keyValue = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)([\w.-]*(?:` + strings.Join(secretWords, "|") + `)[\w.-]*["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"']+)`)
	})
)

// Text returns s, a free text such as a panic or error message, with URL
// passwords and the values of secret-looking key=value or key: value
// pairs hidden.
func Text(s string) string {
	s = urlPassword().ReplaceAllString(s, "${1}:"+urlMask+"@")
	kv := keyValue()
	return kv.ReplaceAllStringFunc(s, func(m string) string {
		sub := kv.FindStringSubmatch(m)
		if strings.Contains(sub[2], urlMask+"@") { // a URL already masked
			return m
		}
		return sub[1] + Mask
	})
}
