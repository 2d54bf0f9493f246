package htpasswd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
)

// vectors were produced by Debian's htpasswd (apache2-utils 2.4):
// htpasswd -nbm, -nbs, -nbB -C 4, -nb2 and -nb5.
var vectors = []struct {
	password, hash string
}{
	{"secret", "$apr1$RW9UWwF7$yxLtvnp6ZNO6jVzwXS36I1"},
	{"secret", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="},
	{"secret", "$2y$04$VJR5DALU8Uuxzw1rSyNaoOfT9Cmo1qvX1Tdu.UddMAZnpYCsD5r5m"},
	{"", "$apr1$UjiDwnKY$W2pB.s/SL7lrCJ3vmfhlb1"},
	{"", "{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
	{"", "$2y$04$gI9.HjmsMWh8EH06z87LLev3EYfEvyHOl0Wz9zEB5hXJbalc5yYVS"},
	{"pässwörd", "$apr1$Wrjs79lI$MHLAhLdDPIkCAIobjDbWn0"},
	{"pässwörd", "{SHA}9Rfd8dMqES/xrVXGbRsSyzjn6Pc="},
	{"pässwörd", "$2y$04$G/W1Mmt6CBjVUjkmKt3Cp.w8.i6PVtKAY0JeMsP/JV87Rq50epoYe"},
	{"a-very-long-password-longer-than-sixteen-bytes", "$apr1$Ftdo9Igh$ZH70pdqgGOZNxsrva/UaQ1"},
	{"a-very-long-password-longer-than-sixteen-bytes", "{SHA}GMYTUPma6R5ccN/yHg7oidNM0yA="},
	{"a-very-long-password-longer-than-sixteen-bytes", "$2y$04$gN.LvoDYe6Viu8rXc2RaRetNSJIVZ5165rnu3O7xT9Lf0o0NTHUxS"},
	{"x", "$apr1$EeAG.DYN$2KX.xv2k3pjYNBgm7/Wmw."},
	{"x", "{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI="},
	{"x", "$2y$04$vxNaMEDlE4VyvSXW040W6OsiolSjagYVeKy0vN7r7J.b.GInvupxe"},
	// htpasswd -nb2 and -nb5 (SHA-crypt through glibc's crypt).
	{"secret", "$5$S9rvHAF0aJETR0Be$dDHdFTCVbtWrpq4ewT5ABSk5pi97rFGcs5FPhj2Hwa."},
	{"secret", "$6$41FdGqWx0rjKX8fR$Z9KIKF09VjyyxN2nZrsCfN9OkQYnEEKEjKp1kxrYNA8.sUrpEenhFLRSsWpMzW55auOfgrcHW2ifnXEHXU/9a/"},
	{"", "$5$mZM3TNyG77fWMo11$LKnLV/sD2hwoMo/5BgyY8SIMf0t2AMRdEsuz6oQtnx0"},
	{"", "$6$W7AHRtXYk4EZ3ShH$BI4RPybHPv8ebAMJJrDthC9gdVgk6iOv98bra0fDA6XHOYGSxOlvVgHYeUI5HF/2qdUTEXTSL6l7YbzPYjg.k/"},
	{"pässwörd", "$5$Xoql2y1bHxbj0AeM$FbzjYwvHL1Ysb/gMOAAIqKJxMi201itShRFw1VfRmf."},
	{"pässwörd", "$6$LM.97n9PbCOI6tj5$SEdJq17L0G2o9jDFETIGMkmrk4Q0Uf6.F6dulfLOMoUQOzVRlWHABkJ1JSx0nVOqlRC5l.uH.2NL6uUp4k0sn0"},
	{"a-very-long-password-longer-than-sixty-four-bytes-0123456789-abcdefghijkl", "$5$C9mrLcNeVcofr04O$FXjjxu6BdcR9WSLEuK0LprnTXGjU7sQ14aA3JDr9PF1"},
	{"a-very-long-password-longer-than-sixty-four-bytes-0123456789-abcdefghijkl", "$6$PZW1wRUDDYuFkCLQ$.qECN.a8ZW.mGxD9HujoBklQSYUzML4ysjylqHlOktOhZ1y6AtA/n1umztCLRCsC0qCLfqDu.RQGBvp5D/zzP/"},
	{"x", "$5$a7uaeIpPrw78QF1q$NJRQ4M2SFD7FgLCo.R6NUZzhl6D8iYPBU5T69bqKbg."},
	{"x", "$6$Edqn4WWo/X0upRts$oMQ/98KIotk/uwNVOFiUt3m9Y9QxyAY1LNlHrXs4T6LuKh9EHtSNPb6ZdcT4vAt6vFbkn0I3G.pVtm.UEsrBS0"},
	{"secret", "$6$rounds=1000$nOaFpowpEhMPd/pQ$XCHmcgjjoTAVh/X7Apbhd8FGrEHN4HJKPb3oMRi7lV6MS38a0uIfWLvezVCjyq6GCOgVRO/K4xkdidrDUi4bW1"},
	{"secret", "$5$rounds=12345$BFzeMNEiAc/81Y7A$KNugkczeSlE/xEC7hRmWpnJHqHYre2lCiNA5a5AyWD8"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		h, err := ParseHash(v.hash)
		if err != nil {
			t.Errorf("ParseHash(%q) error: %v", v.hash, err)
			continue
		}
		if !h.Match(v.password) {
			t.Errorf("%q does not match password %q", v.hash, v.password)
		}
		if h.Match(v.password + "x") {
			t.Errorf("%q matches wrong password %q", v.hash, v.password+"x")
		}
		if salt, ok := apr1Salt(v.hash); ok {
			if got := APR1(v.password, salt); got != v.hash {
				t.Errorf("APR1(%q, %q) = %q, want %q", v.password, salt, got, v.hash)
			}
		}
		if sp, err := parseSHACrypt(v.hash); err == nil {
			if got := shaCrypt(sp, v.password); got != v.hash {
				t.Errorf("shaCrypt(%q) = %q, want %q", v.password, got, v.hash)
			}
		}
		if strings.HasPrefix(v.hash, "{SHA}") {
			if got := SHA1(v.password); got != v.hash {
				t.Errorf("SHA1(%q) = %q, want %q", v.password, got, v.hash)
			}
		}
	}
}

// TestAgainstHtpasswd checks fresh hashes from the htpasswd binary, with
// random salts, when it is installed.
func TestAgainstHtpasswd(t *testing.T) {
	bin := peer.Require(t, "htpasswd") // apache2-utils
	passwords := []string{"hunter2", "", "0123456789abcdef0123", "ünïcødé", "sp ace:colon$dollar"}
	for _, flag := range []string{"-nbm", "-nbs", "-nbB", "-nb2", "-nb5"} {
		for _, pw := range passwords {
			args := []string{flag, "someone", pw}
			if flag == "-nbB" {
				args = append([]string{"-C", "4"}, args...)
			}
			out, err := exec.Command(bin, args...).Output()
			if err != nil {
				t.Fatalf("htpasswd %v: %v", args, err)
			}
			users, err := Parse(strings.NewReader(string(out)))
			if err != nil {
				t.Fatalf("Parse(%q): %v", out, err)
			}
			if !users.Check("someone", pw) {
				t.Errorf("htpasswd %s: %q does not match %q", flag, out, pw)
			}
			if users.Check("someone", pw+"!") {
				t.Errorf("htpasswd %s: %q matches a wrong password", flag, out)
			}
			if flag == "-nbm" {
				h := strings.TrimSpace(strings.SplitN(string(out), ":", 2)[1])
				salt, _ := apr1Salt(h)
				if got := APR1(pw, salt); got != h {
					t.Errorf("APR1(%q, %q) = %q, htpasswd wrote %q", pw, salt, got, h)
				}
			}
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		users     []string
		wantErr   string
		unsupport bool
	}{
		{name: "empty", in: ""},
		{name: "comments and blanks", in: "# users\n\n  \nu:{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=\r\n", users: []string{"u"}},
		{name: "three formats", in: "a:$apr1$EeAG.DYN$2KX.xv2k3pjYNBgm7/Wmw.\nb:{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=\nc:$2y$04$vxNaMEDlE4VyvSXW040W6OsiolSjagYVeKy0vN7r7J.b.GInvupxe\n", users: []string{"a", "b", "c"}},
		{name: "no colon", in: "justaname\n", wantErr: "line 1: want user:hash"},
		{name: "empty user", in: ":{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=\n", wantErr: "line 1"},
		{name: "crypt", in: "\nu:rl0uE4c.8bHq6\n", wantErr: "line 2", unsupport: true},
		{name: "bad sha512 crypt", in: "u:$6$abc$def\n", wantErr: "bad SHA-crypt"},
		{name: "sha crypt too many rounds", in: "u:$5$rounds=5000000$BFzeMNEiAc/81Y7A$KNugkczeSlE/xEC7hRmWpnJHqHYre2lCiNA5a5AyWD8\n", wantErr: "too long"},
		{name: "sha crypt salt too long", in: "u:$5$0123456789abcdefg$KNugkczeSlE/xEC7hRmWpnJHqHYre2lCiNA5a5AyWD8\n", wantErr: "bad SHA-crypt"},
		{name: "short sha", in: "u:{SHA}abc=\n", wantErr: "bad {SHA}"},
		{name: "bad apr1", in: "u:$apr1$salt$short\n", wantErr: "bad $apr1$"},
		{name: "bad bcrypt", in: "u:$2y$99$x\n", wantErr: "bcrypt"},
		{name: "too long", in: "u:" + strings.Repeat("a", MaxLineLength+10) + "\n", wantErr: "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := Parse(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				if tt.unsupport != errors.Is(err, ErrUnsupported) {
					t.Errorf("errors.Is(%v, ErrUnsupported) = %v, want %v", err, !tt.unsupport, tt.unsupport)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(users) != len(tt.users) {
				t.Errorf("got %d users, want %d", len(users), len(tt.users))
			}
			for _, u := range tt.users {
				if !users.Check(u, "x") {
					t.Errorf("user %q does not accept password x", u)
				}
			}
		})
	}
}

func TestCheckUnknownUser(t *testing.T) {
	users, err := Parse(strings.NewReader("u:{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=\n"))
	if err != nil {
		t.Fatal(err)
	}
	if users.Check("nobody", "x") {
		t.Error("unknown user accepted")
	}
	if users.Check("", "") {
		t.Error("empty user accepted")
	}
}

func TestFileReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users")
	write := func(content string, mtime time.Time) {
		t.Helper()
		tmp := filepath.Join(dir, "tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now().Add(-time.Hour)
	write("alice:"+SHA1("one")+"\n", t0)
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Check("alice", "one") {
		t.Fatal("alice/one rejected")
	}

	// Same size, new mtime and inode.
	write("alice:"+SHA1("two")+"\n", t0.Add(time.Second))
	if f.Check("alice", "one") || !f.Check("alice", "two") {
		t.Error("file change not picked up")
	}

	// A bad file keeps the users read before.
	write("alice:"+SHA1("three")+"\nbroken\n", t0.Add(2*time.Second))
	if !f.Check("alice", "two") {
		t.Error("bad file replaced the good users")
	}

	// A vanished file keeps them too.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if !f.Check("alice", "two") {
		t.Error("removed file dropped the users")
	}

	write("bob:"+APR1("four", "saltsalt")+"\n", t0.Add(3*time.Second))
	if f.Check("alice", "two") || !f.Check("bob", "four") {
		t.Error("recreated file not picked up")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("x\n"), 0o600)
	if _, err := Open(bad, nil); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("Open(bad) = %v, want an error naming the file", err)
	}
}

// TestFileCache checks that a password that matched once is remembered
// for the same file content only.
func TestFileCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	// htpasswd -nbB -C 4 u x
	if err := os.WriteFile(path, []byte("u:$2y$04$vxNaMEDlE4VyvSXW040W6OsiolSjagYVeKy0vN7r7J.b.GInvupxe\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Check("u", "x") {
		t.Fatal("u/x rejected")
	}
	// Swap the hash in memory without a reload: the remembered password
	// still passes, any other is checked against the new hash.
	f.mu.Lock()
	f.users["u"] = Hash{kindSHA1, SHA1("y")}
	f.mu.Unlock()
	if !f.Check("u", "x") {
		t.Error("remembered password not used")
	}
	if f.Check("u", "z") || !f.Check("u", "y") {
		t.Error("cache changed the answer for other passwords")
	}
	if f.Check("other", "x") {
		t.Error("cache entry of u let another user in")
	}
	// A reload voids the cache.
	f.mu.Lock()
	f.gen++
	f.users["u"] = Hash{kindSHA1, SHA1("y")}
	f.mu.Unlock()
	if f.Check("u", "x") {
		t.Error("cache survived a reload")
	}
}

func BenchmarkFileCheckBcrypt(b *testing.B) {
	path := filepath.Join(b.TempDir(), "users")
	os.WriteFile(path, []byte("u:$2y$04$vxNaMEDlE4VyvSXW040W6OsiolSjagYVeKy0vN7r7J.b.GInvupxe\n"), 0o600)
	f, err := Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !f.Check("u", "x") {
			b.Fatal("rejected")
		}
	}
}

// TestDecoyMatchesFileIssue12 pins issue 12 item 6: unknown users were
// checked against an APR1 decoy while real users were bcrypt (0.49 ms vs
// 55 ms at cost 10). The decoy now has the scheme and cost of the file's
// entries; the timing itself is measured in basicauth and cookieauth.
func TestDecoyMatchesFileIssue12(t *testing.T) {
	bc5 := "$2y$05$" + strings.Repeat("a", 53)
	for _, tc := range []struct {
		name, file string
		want       decoyKey
	}{
		{"empty", "", decoyKey{kind: kindAPR1}},
		{"bcrypt 4", "u:$2y$04$vxNaMEDlE4VyvSXW040W6OsiolSjagYVeKy0vN7r7J.b.GInvupxe\n", decoyKey{kind: kindBcrypt, cost: 4}},
		{"bcrypt mostly 5", "a:" + bc5 + "\nb:" + bc5 + "\nc:$2y$04$vxNaMEDlE4VyvSXW040W6OsiolSjagYVeKy0vN7r7J.b.GInvupxe\n", decoyKey{kind: kindBcrypt, cost: 5}},
		{"sha-crypt rounds", "u:$5$rounds=12345$BFzeMNEiAc/81Y7A$KNugkczeSlE/xEC7hRmWpnJHqHYre2lCiNA5a5AyWD8\n", decoyKey{kind: kindSHACrypt, cost: 12345, magic: "$5$"}},
		{"sha-512-crypt", "u:$6$41FdGqWx0rjKX8fR$Z9KIKF09VjyyxN2nZrsCfN9OkQYnEEKEjKp1kxrYNA8.sUrpEenhFLRSsWpMzW55auOfgrcHW2ifnXEHXU/9a/\n", decoyKey{kind: kindSHACrypt, cost: 5000, magic: "$6$"}},
		{"apr1", "u:$apr1$RW9UWwF7$yxLtvnp6ZNO6jVzwXS36I1\n", decoyKey{kind: kindAPR1}},
		{"sha1", "u:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n", decoyKey{kind: kindSHA1}},
		{"tie goes to the costlier", "a:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\nb:" + bc5 + "\n", decoyKey{kind: kindBcrypt, cost: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, err := Parse(strings.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			d := users.Decoy()
			if got := d.decoyKey(); got != tc.want {
				t.Errorf("decoy %q has key %+v, want %+v", d.raw, got, tc.want)
			}
			if _, err := ParseHash(d.raw); err != nil {
				t.Errorf("decoy %q does not parse: %v", d.raw, err)
			}
			for _, pw := range []string{"", "x", "secret"} {
				if d.Match(pw) {
					t.Errorf("decoy matches %q", pw)
				}
			}
		})
	}
}
