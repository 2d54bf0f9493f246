package cache

// This file parses Cache-Control (RFC 9111 §5.2) and computes freshness;
// no storage here.

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// directives are the Cache-Control directives the cache acts on. Ages are
// -1 when absent; an unparsable age counts as 0 (stale), as RFC 9111
// §1.2.2 asks.
type directives struct {
	noStore, noCache, private, public bool
	mustRevalidate, proxyRevalidate   bool
	onlyIfCached                      bool
	maxAge, sMaxAge                   int64
}

// parseCacheControl reads every Cache-Control field line of h. Unknown
// directives are ignored; quoted arguments may contain commas.
func parseCacheControl(values []string) directives {
	d := directives{maxAge: -1, sMaxAge: -1}
	for _, line := range values {
		for len(line) > 0 {
			var name, arg string
			name, arg, line = nextDirective(line)
			switch strings.ToLower(name) {
			case "no-store":
				d.noStore = true
			case "no-cache":
				d.noCache = true
			case "private":
				d.private = true
			case "public":
				d.public = true
			case "must-revalidate":
				d.mustRevalidate = true
			case "proxy-revalidate":
				d.proxyRevalidate = true
			case "only-if-cached":
				d.onlyIfCached = true
			case "max-age":
				d.maxAge = parseSeconds(arg)
			case "s-maxage":
				d.sMaxAge = parseSeconds(arg)
			}
		}
	}
	return d
}

// nextDirective splits the first directive off s: its name, its argument
// (unquoted) and the rest after the separating comma.
func nextDirective(s string) (name, arg, rest string) {
	s = strings.TrimLeft(s, " \t,")
	i := 0
	for i < len(s) && s[i] != '=' && s[i] != ',' {
		i++
	}
	name = strings.TrimSpace(s[:i])
	if i == len(s) {
		return name, "", ""
	}
	if s[i] == ',' {
		return name, "", s[i+1:]
	}
	s = strings.TrimLeft(s[i+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		j := 1
		for ; j < len(s); j++ {
			c := s[j]
			if c == '\\' && j+1 < len(s) {
				j++
				b.WriteByte(s[j])
				continue
			}
			if c == '"' {
				j++
				break
			}
			b.WriteByte(c)
		}
		rest = s[j:]
		if k := strings.IndexByte(rest, ','); k >= 0 {
			rest = rest[k+1:]
		} else {
			rest = ""
		}
		return name, b.String(), rest
	}
	k := strings.IndexByte(s, ',')
	if k < 0 {
		return name, strings.TrimSpace(s), ""
	}
	return name, strings.TrimSpace(s[:k]), s[k+1:]
}

// maxSeconds caps delta-seconds at 2^31, as RFC 9111 §1.2.2 allows.
const maxSeconds = 1 << 31

func parseSeconds(s string) int64 {
	if s == "" {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxSeconds {
		return maxSeconds
	}
	return n
}

// cacheableStatus lists the statuses that are cacheable by default
// (RFC 9110 §15.1), minus 206, which would need range bookkeeping.
func cacheableStatus(code int) bool {
	switch code {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// lifetime returns the freshness lifetime of a response received at now
// (RFC 9111 §4.2.1) and whether the response gave one: s-maxage, then
// max-age, then Expires minus Date. A bad Expires means already expired.
func lifetime(h http.Header, d directives, now time.Time) (time.Duration, bool) {
	if d.sMaxAge >= 0 {
		return time.Duration(d.sMaxAge) * time.Second, true
	}
	if d.maxAge >= 0 {
		return time.Duration(d.maxAge) * time.Second, true
	}
	if exp, ok := h["Expires"]; ok {
		if len(exp) == 0 {
			return 0, true
		}
		t, err := http.ParseTime(exp[0])
		if err != nil {
			return 0, true
		}
		date := now
		if ds := h.Get("Date"); ds != "" {
			if dt, err := http.ParseTime(ds); err == nil {
				date = dt
			}
		}
		if lt := t.Sub(date); lt > 0 {
			return lt, true
		}
		return 0, true
	}
	return 0, false
}

// initialAge reads the Age header a backend sent, in seconds.
func initialAge(h http.Header) time.Duration {
	a := h.Get("Age")
	if a == "" {
		return 0
	}
	return time.Duration(parseSeconds(a)) * time.Second
}
