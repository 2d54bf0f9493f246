package errorpage

import (
	"strings"
	"testing"
)

// FuzzMaskValue checks that masking never panics, hides every value of a
// secret-looking key and never lets a URL password through.
func FuzzMaskValue(f *testing.F) {
	for _, s := range [][2]string{{"db_password", "x"}, {"url", "redis://u:pw@h/0"}, {"x", "a@b://"}, {"dsn", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, v string) {
		got := maskValue(key, v)
		if Secret(key) && v != "" && got != Mask {
			t.Fatalf("maskValue(%q, %q) = %q, want the mask", key, v, got)
		}
		if strings.Contains(got, ":pw@") && strings.Contains(v, "://") && got != v {
			t.Fatalf("password kept: %q", got)
		}
	})
}
