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
package htpasswd

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

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

// decoy is checked for unknown users, so that an unknown name costs about
// as much as a wrong password for a user with an MD5 hash.
var decoy = Hash{kindAPR1, "$apr1$decoysal$uBkBSJIJPs/0yAnoFkpb41"}

// Check reports whether user is in u and password matches its hash.
func (u Users) Check(user, password string) bool {
	h, ok := u[user]
	if !ok {
		decoy.Match(password)
		return false
	}
	return h.Match(password)
}
