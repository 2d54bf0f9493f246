package htpasswd

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, v := range vectors {
		f.Add("u:"+v.hash+"\n", v.password)
	}
	f.Add("# c\n\nu:rl0uE4c.8bHq6\n", "")
	f.Add("u:$apr1$$x\n", "x")
	f.Fuzz(func(t *testing.T, in, password string) {
		if strings.Contains(in, "$2") || strings.Contains(in, "rounds=") {
			// bcrypt and many SHA-crypt rounds are slow by design; keep
			// the fuzzer on the rest.
			return
		}
		users, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for u, h := range users {
			if u == "" || strings.Contains(u, ":") {
				t.Fatalf("bad user name %q", u)
			}
			h.Match(password)
		}
	})
}

func FuzzAPR1(f *testing.F) {
	f.Add("secret", "RW9UWwF7")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, password, salt string) {
		if strings.Contains(salt, "$") || salt == "" {
			return
		}
		h := APR1(password, salt)
		p, err := ParseHash(h)
		if err != nil {
			t.Fatalf("ParseHash(APR1(%q, %q) = %q): %v", password, salt, h, err)
		}
		if !p.Match(password) {
			t.Fatalf("APR1 hash %q does not match its password", h)
		}
	})
}

func FuzzSHACrypt(f *testing.F) {
	f.Add("secret", "S9rvHAF0aJETR0Be", false)
	f.Add("", "", true)
	f.Fuzz(func(t *testing.T, password, salt string, sha512 bool) {
		if strings.Contains(salt, "$") || len(salt) > shaCryptMaxSalt {
			return
		}
		sp := shaCryptSpec{magic: "$5$", rounds: shaCryptDefaultRounds, salt: salt}
		if sha512 {
			sp.magic = "$6$"
		}
		h := shaCrypt(sp, password)
		p, err := ParseHash(h)
		if err != nil {
			t.Fatalf("ParseHash(%q): %v", h, err)
		}
		if !p.Match(password) || p.Match(password+"x") {
			t.Fatalf("SHA-crypt hash %q does not check its password", h)
		}
	})
}
