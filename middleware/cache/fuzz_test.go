package cache

import (
	"bytes"
	"net/http"
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

func FuzzETagMatch(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, `*`, `"a,b", "c"`, `"unterminated`, `x, "a"`} {
		f.Add(s, `"a"`)
	}
	f.Fuzz(func(t *testing.T, list, etag string) {
		got := etagMatch(list, etag)
		// A list holding exactly the tag always matches.
		if etag != "" && etag[0] == '"' && len(etag) > 1 && etag[len(etag)-1] == '"' &&
			!bytes.ContainsAny([]byte(etag[1:len(etag)-1]), "\"") && !etagMatch(etag, etag) {
			t.Fatalf("etagMatch(%q, %q) = false", etag, etag)
		}
		_ = got
	})
}
