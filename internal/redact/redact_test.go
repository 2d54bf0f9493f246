package redact

import (
	"strings"
	"testing"
)

func TestValue(t *testing.T) {
	for _, tc := range []struct{ key, in, want string }{
		{"db_password", "hunter2", Mask},
		{"SECRET", "x", Mask},
		{"api_token", "abc", Mask},
		{"signing_key", "abc", Mask},
		{"dsn", "user:pw@tcp(db)/app", Mask},
		{"password", "", ""},
		{"database_url", "postgres://app:hunter2@db/app", "postgres://app:xxxxx@db/app"},
		{"redis", "redis://:hunter2@localhost:6379/0", "redis://:xxxxx@localhost:6379/0"},
		{"upstream", "http://backend:8080/x", "http://backend:8080/x"},
		{"document_root", "/srv/www", "/srv/www"},
	} {
		if got := Value(tc.key, tc.in); got != tc.want {
			t.Errorf("Value(%q, %q) = %q, want %q", tc.key, tc.in, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		in     string
		hidden []string
		kept   []string
	}{
		{"connect postgres://app:hunter2@db:5432/app: refused", []string{"hunter2"}, []string{"postgres://app:xxxxx@db:5432/app", "refused"}},
		{"bad config: password=hunter2 user=bob", []string{"hunter2"}, []string{"password=" + Mask, "user=bob"}},
		{`login failed {"api_token": "abc123", "user": "bob"}`, []string{"abc123"}, []string{`"user": "bob"`}},
		{"SECRET_KEY: s3cr3t, DEBUG: true", []string{"s3cr3t"}, []string{"DEBUG: true"}},
		{"index out of range [3] with length 2", nil, []string{"index out of range [3] with length 2"}},
		{"dsn='user:pw@tcp(db)/x' failed", []string{"pw@tcp"}, []string{"failed"}},
	} {
		got := Text(tc.in)
		for _, h := range tc.hidden {
			if strings.Contains(got, h) {
				t.Errorf("Text(%q) = %q shows %q", tc.in, got, h)
			}
		}
		for _, k := range tc.kept {
			if !strings.Contains(got, k) {
				t.Errorf("Text(%q) = %q lost %q", tc.in, got, k)
			}
		}
	}
}

// FuzzText checks Text never panics and hides a secret pair whatever
// text comes before it.
func FuzzText(f *testing.F) {
	f.Add("password=x https://u:p@h/")
	f.Add(`{"token": "`)
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, "hunter2") {
			return
		}
		if got := Text(s + " password=hunter2"); strings.Contains(got, "hunter2") {
			t.Errorf("Text(%q + password=hunter2) = %q", s, got)
		}
	})
}

// FuzzValue checks that masking never panics, hides every value of a
// secret-looking key and never lets a URL password through.
func FuzzValue(f *testing.F) {
	for _, s := range [][2]string{{"db_password", "x"}, {"url", "redis://u:pw@h/0"}, {"x", "a@b://"}, {"dsn", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, v string) {
		got := Value(key, v)
		if SecretKey(key) && v != "" && got != Mask {
			t.Fatalf("Value(%q, %q) = %q, want the mask", key, v, got)
		}
		if strings.Contains(got, ":pw@") && strings.Contains(v, "://") && got != v {
			t.Fatalf("password kept: %q", got)
		}
	})
}
