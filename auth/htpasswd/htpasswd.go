// Package htpasswd reads the password files that Apache's htpasswd writes
// and checks passwords against them.
//
// Each line is "user:hash". Blank lines and lines starting with '#' are
// skipped. The hash formats supported are the ones htpasswd writes with
// -B (bcrypt: $2y$, and $2a$/$2b$ from other tools), -2 and -5
// (SHA-256-crypt $5$ and SHA-512-crypt $6$, rounds up to
// [MaxSHACryptRounds]), -m (Apache's MD5, $apr1$, the default of
// htpasswd) and -s ({SHA}, an unsalted SHA-1 in base64). Crypt (-d) and
// plain text (-p) are refused when the file is read, with the line that has them, so a
// user is never silently locked out or let in.
//
// [File] rereads the file when it changes on disk (a cheap stat per check
// compares size, modification time and identity).
//
// An unknown user's password is checked against a decoy hash with the
// scheme and cost of the file's entries ([Users.Decoy]), so a check takes
// as long whether the user exists or not.
package htpasswd

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// MaxLineLength is the longest line Parse accepts.
const MaxLineLength = 4096

// ErrUnsupported is wrapped by the error Parse returns for a hash in a
// format this package cannot check.
var ErrUnsupported = errors.New("htpasswd: unsupported hash format")

// Hash is one user's password hash in a format Parse recognised.
type Hash struct {
	kind kind
	raw  string // the hash as written in the file
}

type kind int

const (
	kindBcrypt kind = iota + 1
	kindAPR1
	kindSHA1
	kindSHACrypt
)

// Match reports whether password matches h. The final comparison takes
// the same time wherever the inputs differ.
func (h Hash) Match(password string) bool {
	switch h.kind {
	case kindBcrypt:
		return bcrypt.CompareHashAndPassword([]byte(h.raw), []byte(password)) == nil
	case kindAPR1:
		salt, _ := apr1Salt(h.raw)
		return subtle.ConstantTimeCompare([]byte(APR1(password, salt)), []byte(h.raw)) == 1
	case kindSHA1:
		return subtle.ConstantTimeCompare([]byte(SHA1(password)), []byte(h.raw)) == 1
	case kindSHACrypt:
		sp, err := parseSHACrypt(h.raw)
		return err == nil && subtle.ConstantTimeCompare([]byte(shaCrypt(sp, password)), []byte(h.raw)) == 1
	}
	return false
}

// ParseHash recognises one hash as htpasswd writes it.
func ParseHash(s string) (Hash, error) {
	switch {
	case strings.HasPrefix(s, "$2y$"), strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"):
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return Hash{}, fmt.Errorf("htpasswd: bad bcrypt hash: %v", err)
		}
		return Hash{kindBcrypt, s}, nil
	case strings.HasPrefix(s, apr1Magic):
		salt, ok := apr1Salt(s)
		if !ok || len(s) != len(apr1Magic)+len(salt)+1+22 {
			return Hash{}, errors.New("htpasswd: bad $apr1$ hash")
		}
		return Hash{kindAPR1, s}, nil
	case strings.HasPrefix(s, shaPrefix):
		b, err := base64.StdEncoding.DecodeString(s[len(shaPrefix):])
		if err != nil || len(b) != sha1.Size {
			return Hash{}, errors.New("htpasswd: bad {SHA} hash")
		}
		return Hash{kindSHA1, s}, nil
	case strings.HasPrefix(s, "$5$"), strings.HasPrefix(s, "$6$"):
		if _, err := parseSHACrypt(s); err != nil {
			return Hash{}, fmt.Errorf("htpasswd: bad SHA-crypt hash: %v", err)
		}
		return Hash{kindSHACrypt, s}, nil
	}
	return Hash{}, fmt.Errorf("%w: crypt or plain text (htpasswd -d/-p); use -B, -2, -5, -m or -s", ErrUnsupported)
}

const shaPrefix = "{SHA}"

// SHA1 returns password hashed as htpasswd -s does: "{SHA}" and the
// base64 of its SHA-1 digest.
func SHA1(password string) string {
	sum := sha1.Sum([]byte(password))
	return shaPrefix + base64.StdEncoding.EncodeToString(sum[:])
}

// Users maps user names to their hashes.
type Users map[string]Hash

// Parse reads an htpasswd file. It reports every bad line, numbered from
// 1, joined in one error; a later line for the same user replaces an
// earlier one.
func Parse(r io.Reader) (Users, error) {
	users := make(Users)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), MaxLineLength)
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := string(bytes.TrimRight(sc.Bytes(), "\r"))
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			errs = append(errs, fmt.Errorf("line %d: want user:hash", n))
			continue
		}
		h, err := ParseHash(strings.TrimSpace(hash))
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: user %q: %w", n, user, err))
			continue
		}
		users[user] = h
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("htpasswd: line longer than %d bytes", MaxLineLength)
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return users, nil
}

// Check reports whether user is in u and password matches its hash. An
// unknown user's password is checked against a decoy that costs what a
// real check costs ([Users.Decoy]), so the time taken does not tell
// whether the user exists. Finding the decoy walks u; [File] keeps it.
func (u Users) Check(user, password string) bool {
	return u.check(user, password, Hash{})
}

// check is Check with the decoy already found (the zero Hash means look
// it up).
func (u Users) check(user, password string, decoy Hash) bool {
	h, ok := u[user]
	if !ok {
		if decoy.kind == 0 {
			decoy = u.Decoy()
		}
		decoy.Match(password)
		return false
	}
	return h.Match(password)
}

// Decoy returns a hash that no password matches (of a random one) and
// that takes as long to check as the users' own: the same scheme and cost
// as the most common (scheme, cost) among them, the costlier on a tie. A
// file mixing schemes still tells a fast scheme's users from the others;
// use one scheme per file. Decoys are made once per scheme and cost and
// kept for the life of the process.
func (u Users) Decoy() Hash {
	count := map[decoyKey]int{}
	var best decoyKey
	for _, h := range u {
		k := h.decoyKey()
		count[k]++
		if c, bc := count[k], count[best]; c > bc || c == bc && k.more(best) {
			best = k
		}
	}
	if best.kind == 0 {
		best = decoyKey{kind: kindAPR1}
	}
	if d, ok := decoys.Load(best); ok {
		return d.(Hash)
	}
	d := best.make()
	decoys.Store(best, d)
	return d
}

// decoys holds one decoy Hash per decoyKey.
var decoys sync.Map

// decoyKey is what a check's cost depends on: the scheme, the bcrypt
// cost or the SHA-crypt rounds (and variant).
type decoyKey struct {
	kind  kind
	cost  int
	magic string // "$5$" or "$6$" for SHA-crypt
}

func (h Hash) decoyKey() decoyKey {
	k := decoyKey{kind: h.kind}
	switch h.kind {
	case kindBcrypt:
		k.cost, _ = bcrypt.Cost([]byte(h.raw))
	case kindSHACrypt:
		if sp, err := parseSHACrypt(h.raw); err == nil {
			k.cost, k.magic = sp.rounds, sp.magic
		}
	}
	return k
}

// more orders keys by expected cost: bcrypt above SHA-crypt above the
// rest, then by cost.
func (k decoyKey) more(o decoyKey) bool {
	rank := func(k kind) int {
		switch k {
		case kindBcrypt:
			return 3
		case kindSHACrypt:
			return 2
		case kindAPR1:
			return 1
		}
		return 0
	}
	if rank(k.kind) != rank(o.kind) {
		return rank(k.kind) > rank(o.kind)
	}
	if k.cost != o.cost {
		return k.cost > o.cost
	}
	return k.magic > o.magic
}

// make hashes a random password with k's scheme and cost.
func (k decoyKey) make() Hash {
	pw := rand.Text()
	switch k.kind {
	case kindBcrypt:
		if b, err := bcrypt.GenerateFromPassword([]byte(pw), k.cost); err == nil {
			return Hash{kindBcrypt, string(b)}
		}
	case kindSHACrypt:
		sp := shaCryptSpec{magic: k.magic, rounds: k.cost, explicit: true, salt: rand.Text()[:shaCryptMaxSalt]}
		return Hash{kindSHACrypt, shaCrypt(sp, pw)}
	case kindSHA1:
		return Hash{kindSHA1, SHA1(pw)}
	}
	return Hash{kindAPR1, APR1(pw, rand.Text()[:8])}
}
