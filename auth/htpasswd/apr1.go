package htpasswd

// This file implements Apache's MD5 password hash, "$apr1$": the
// FreeBSD MD5-crypt algorithm with a different magic string.

import (
	"crypto/md5"
	"strings"
)

const (
	apr1Magic = "$apr1$"
	itoa64    = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// apr1Salt returns the salt of an $apr1$ hash: up to 8 characters after
// the magic, ending at the next '$'.
func apr1Salt(h string) (string, bool) {
	rest, ok := strings.CutPrefix(h, apr1Magic)
	if !ok {
		return "", false
	}
	salt, _, ok := strings.Cut(rest, "$")
	if !ok || salt == "" || len(salt) > 8 {
		return "", false
	}
	return salt, true
}

// APR1 returns password hashed with salt (at most 8 characters are used)
// as htpasswd -m does: "$apr1$salt$" and 22 characters of hash.
func APR1(password, salt string) string {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	pw := []byte(password)

	alt := md5.New()
	alt.Write(pw)
	alt.Write([]byte(salt))
	alt.Write(pw)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write([]byte(apr1Magic))
	ctx.Write([]byte(salt))
	for i := len(pw); i > 0; i -= 16 {
		ctx.Write(altSum[:min(i, 16)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final := ctx.Sum(nil)

	for i := range 1000 {
		c := md5.New()
		if i&1 != 0 {
			c.Write(pw)
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write([]byte(salt))
		}
		if i%7 != 0 {
			c.Write(pw)
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write(pw)
		}
		final = c.Sum(final[:0])
	}

	out := make([]byte, 0, len(apr1Magic)+len(salt)+1+22)
	out = append(out, apr1Magic...)
	out = append(out, salt...)
	out = append(out, '$')
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			out = append(out, itoa64[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		to64(uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	to64(uint32(final[11]), 2)
	return string(out)
}
