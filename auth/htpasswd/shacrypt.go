package htpasswd

// This file implements SHA-crypt ("$5$" with SHA-256, "$6$" with
// SHA-512), Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512"
// (2008), which htpasswd -2 and -5 write through the C library's crypt.

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// MaxSHACryptRounds is the largest rounds= accepted in a SHA-crypt hash.
// The algorithm allows up to 999999999, but every request checks the
// password, and a million rounds already take about a second.
const MaxSHACryptRounds = 1000000

const (
	shaCryptDefaultRounds = 5000
	shaCryptMinRounds     = 1000
	shaCryptMaxSalt       = 16
)

// The byte order of the final encoding, three bytes to four characters
// (the last group is shorter).
var (
	sha256Order = [][]int{
		{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}, {31, 30},
	}
	sha512Order = [][]int{
		{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
		{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
		{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
		{62, 20, 41}, {63},
	}
)

// shaCryptSpec is the parsed prefix of a SHA-crypt hash.
type shaCryptSpec struct {
	magic      string // "$5$" or "$6$"
	rounds     int
	explicit   bool // "rounds=N$" was written
	salt, hash string
}

func parseSHACrypt(s string) (shaCryptSpec, error) {
	var sp shaCryptSpec
	switch {
	case strings.HasPrefix(s, "$5$"):
		sp.magic = "$5$"
	case strings.HasPrefix(s, "$6$"):
		sp.magic = "$6$"
	default:
		return sp, errors.New("not SHA-crypt")
	}
	rest := s[3:]
	sp.rounds = shaCryptDefaultRounds
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, ok := strings.Cut(r, "$")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			return sp, errors.New("bad rounds")
		}
		if n > MaxSHACryptRounds {
			return sp, fmt.Errorf("rounds=%d is over %d: each check would take too long", n, MaxSHACryptRounds)
		}
		sp.rounds = max(n, shaCryptMinRounds)
		sp.explicit = true
		rest = after
	}
	salt, h, ok := strings.Cut(rest, "$")
	if !ok {
		return sp, errors.New("no hash after the salt")
	}
	sp.salt, sp.hash = salt[:min(len(salt), shaCryptMaxSalt)], h
	want := 43
	if sp.magic == "$6$" {
		want = 86
	}
	if len(salt) > shaCryptMaxSalt || len(h) != want || strings.Trim(h, itoa64) != "" {
		return sp, errors.New("bad salt or hash length")
	}
	return sp, nil
}

// shaCrypt hashes password with the algorithm, rounds and salt of sp and
// returns the whole crypt string.
func shaCrypt(sp shaCryptSpec, password string) string {
	newHash, order := sha256.New, sha256Order
	if sp.magic == "$6$" {
		newHash, order = sha512.New, sha512Order
	}
	pw, salt := []byte(password), []byte(sp.salt)

	b := newHash()
	b.Write(pw)
	b.Write(salt)
	b.Write(pw)
	sumB := b.Sum(nil)

	a := newHash()
	a.Write(pw)
	a.Write(salt)
	writeRepeated(a, sumB, len(pw))
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write(sumB)
		} else {
			a.Write(pw)
		}
	}
	sumA := a.Sum(nil)

	dp := newHash()
	for range len(pw) {
		dp.Write(pw)
	}
	pseq := repeatTo(dp.Sum(nil), len(pw))

	ds := newHash()
	for range 16 + int(sumA[0]) {
		ds.Write(salt)
	}
	sseq := repeatTo(ds.Sum(nil), len(salt))

	c := newHash()
	for r := range sp.rounds {
		c.Reset()
		if r&1 != 0 {
			c.Write(pseq)
		} else {
			c.Write(sumA)
		}
		if r%3 != 0 {
			c.Write(sseq)
		}
		if r%7 != 0 {
			c.Write(pseq)
		}
		if r&1 != 0 {
			c.Write(sumA)
		} else {
			c.Write(pseq)
		}
		sumA = c.Sum(sumA[:0])
	}

	var out strings.Builder
	out.WriteString(sp.magic)
	if sp.explicit {
		out.WriteString("rounds=" + strconv.Itoa(sp.rounds) + "$")
	}
	out.WriteString(sp.salt)
	out.WriteByte('$')
	for _, g := range order {
		var w uint32
		for _, i := range g {
			w = w<<8 | uint32(sumA[i])
		}
		for range len(g) + 1 {
			out.WriteByte(itoa64[w&0x3f])
			w >>= 6
		}
	}
	return out.String()
}

// writeRepeated writes n bytes of b, repeating it as needed.
func writeRepeated(h hash.Hash, b []byte, n int) {
	for ; n > len(b); n -= len(b) {
		h.Write(b)
	}
	h.Write(b[:n])
}

func repeatTo(b []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, b[:min(len(b), n-len(out))]...)
	}
	return out
}
