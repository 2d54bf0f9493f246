package redisconn

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzOpen: any URL gives a client or an error, never a panic, and an
// error never repeats the URL's user and password.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		"redis://127.0.0.1:6379/0", "rediss://user:secret@h/2?dial_timeout=1s", "unix:///run/r.sock?db=3",
		"redis://h?pool_size=0", "redis://[::1]:6380", "redis://h/%zz", "redis://:secret@h?x=1", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := Open(raw)
		if err != nil {
			if u, perr := url.Parse(raw); perr == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), u.User.String()) {
					t.Errorf("Open(%q): the user and password are in the error: %v", raw, err)
				}
			}
			return
		}
		c.Close() // nothing was dialled: Open connects on the first command
	})
}
