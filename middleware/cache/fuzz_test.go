package cache

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

func FuzzUnmarshalEntry(f *testing.F) {
	f.Add(MarshalEntry(&Entry{Status: 200, Header: http.Header{"A": {"b", "c"}}, Body: []byte("body"), Vary: []string{"Accept"}}))
	f.Add(MarshalEntry(&Entry{Vary: []string{"Accept", "Cookie"}}))
	f.Add([]byte("GPC1"))
	f.Add([]byte("GPC1\xc8\x01\x00\x00\x00\x00\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := UnmarshalEntry(b)
		if err != nil {
			return
		}
		// What decodes encodes back to something that decodes the same.
		b2 := MarshalEntry(e)
		e2, err := UnmarshalEntry(b2)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if e2.Status != e.Status || !bytes.Equal(e2.Body, e.Body) || len(e2.Header) != len(e.Header) ||
			len(e2.Vary) != len(e.Vary) || !e2.Stored.Equal(e.Stored) || e2.InitialAge != e.InitialAge {
			t.Fatalf("round trip changed the entry: %+v vs %+v", e, e2)
		}
	})
}

func FuzzCacheControl(f *testing.F) {
	for _, s := range []string{
		"max-age=60", `private="a, b", no-cache`, "s-maxage=\"5\", must-revalidate",
		"max-age=99999999999999999999", `a="\"`, "=,=,", "no-store,,public",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := parseCacheControl([]string{s})
		if d.maxAge < -1 || d.maxAge > maxSeconds || d.sMaxAge < -1 || d.sMaxAge > maxSeconds {
			t.Fatalf("ages out of range: %+v", d)
		}
		h := http.Header{"Cache-Control": {s}, "Expires": {s}, "Date": {s}}
		if lt, _ := lifetime(h, d, time.Unix(0, 0)); lt < 0 {
			t.Fatalf("negative lifetime %v", lt)
		}
	})
}

// FuzzETagMatch checks If-None-Match's weak comparison (RFC 9110 section
// 13.1.2): a match needs "*" or the tag itself, well formed, in the list;
// a well-formed tag first in any list matches, with or without W/ on
// either side.
func FuzzETagMatch(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, `*`, `"a,b", "c"`, `"unterminated`, `x, "a"`, `a`, `"a`} {
		f.Add(s, `"a"`)
		f.Add(s, `W/"a"`)
		f.Add(s, "a")
	}
	f.Fuzz(func(t *testing.T, list, etag string) {
		got := etagMatch(list, etag)
		tag := strings.TrimPrefix(strings.TrimSpace(etag), "W/")
		wellFormed := len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' && !strings.Contains(tag[1:len(tag)-1], `"`)
		if got && !strings.Contains(list, "*") && (!wellFormed || !strings.Contains(list, tag)) {
			t.Fatalf("etagMatch(%q, %q) = true without * or the tag in the list", list, etag)
		}
		if !wellFormed {
			return
		}
		if etagMatch(list, "W/"+tag) != etagMatch(list, tag) {
			t.Fatalf("etagMatch(%q, W/%s) differs from etagMatch(%q, %s): the comparison is weak", list, tag, list, tag)
		}
		for _, first := range []string{tag, "W/" + tag} {
			if l := first + ", " + list; !etagMatch(l, etag) {
				t.Fatalf("etagMatch(%q, %q) = false with the tag first", l, etag)
			}
		}
		if l := strings.ReplaceAll(list, "*", "") + "," + tag; !etagMatch(l, etag) && !strings.Contains(list, `"`) {
			t.Fatalf("etagMatch(%q, %q) = false with the tag last in a list of no other tags", l, etag)
		}
	})
}
