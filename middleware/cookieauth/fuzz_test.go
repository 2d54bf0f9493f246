package cookieauth

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func FuzzVerify(f *testing.F) {
	c := testCookie()
	f.Add(c.Sign("alice", t0), "alice")
	f.Add("a.b.c.d", "")
	f.Add("..."+strings.Repeat("A", 43), "x")
	f.Fuzz(func(t *testing.T, value, user string) {
		if tk, ok := c.Verify(value, t0); ok && tk.User == "" {
			t.Fatalf("Verify(%q) accepted an empty user", value)
		}
		if user == "" {
			return
		}
		tk, ok := c.Verify(c.Sign(user, t0), t0.Add(time.Second))
		if !ok || tk.User != user {
			t.Fatalf("round trip of user %q = %+v, %v", user, tk, ok)
		}
	})
}

func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"", "/", "/a?b", "//x", "/\\x", "https://x/", "/%2F%2Fx", "/a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeRedirect(s)
		if got != "/" && got != s {
			t.Fatalf("safeRedirect(%q) = %q, want it or /", s, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") ||
			strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("safeRedirect(%q) = %q leaves the site", s, got)
		}
	})
}
