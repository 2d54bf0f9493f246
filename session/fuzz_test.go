package session_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
)

// FuzzDecodeRecord: any bytes decode to a record or an ErrCorrupt error,
// never a panic, and a decoded record re-encodes to one that decodes the
// same.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":3,"user":"bob","values":{"visits":3}}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`{"format":1,"values":null} {}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00.123456789+02:00","deadline":"2026-11-27T07:30:00Z","version":-3,"user":"b\\"ob","values":{"a":"x\\"}","b":[1,{"c":[]}],"c":{},"d":null,"e":1.5e3}}`))
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":1,"values":{"a": [1, 2] ,"b":"<&>"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := session.DecodeRecord(data)
		if err != nil {
			if !errors.Is(err, session.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// The fast path must agree with encoding/json.
		var ref session.Record
		if err := json.Unmarshal(data, &ref); err != nil {
			t.Fatalf("DecodeRecord accepted what encoding/json refuses: %v", err)
		}
		if !sameRecord(rec, &ref) {
			t.Fatalf("DecodeRecord = %+v, encoding/json = %+v", rec, ref)
		}
		again, err := rec.Encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		rec2, err := session.DecodeRecord(again)
		if err != nil {
			t.Fatalf("decode of re-encoded %s: %v", again, err)
		}
		third, _ := rec2.Encode()
		if !bytes.Equal(again, third) {
			t.Fatalf("not stable:\n%s\n%s", again, third)
		}
		if !json.Valid(again) {
			t.Fatalf("invalid JSON %s", again)
		}
		var ref2 session.Record
		if err := json.Unmarshal(again, &ref2); err != nil || !sameRecord(rec, &ref2) {
			t.Fatalf("Encode wrote %s, which encoding/json reads as %+v (%v)", again, ref2, err)
		}
	})
}

func sameRecord(a, b *session.Record) bool {
	if a.Format != b.Format || !a.Created.Equal(b.Created) || !a.Deadline.Equal(b.Deadline) ||
		a.Version != b.Version || a.User != b.User || len(a.Values) != len(b.Values) {
		return false
	}
	for k, v := range a.Values {
		var x, y bytes.Buffer
		if json.Compact(&x, v) != nil || json.Compact(&y, b.Values[k]) != nil || x.String() != y.String() {
			return false
		}
	}
	return true
}

// FuzzCookieToken: the filter's allocation-free cookie reader finds the
// token that net/http's Request.Cookie finds, for any Cookie headers and
// any (valid) cookie name.
func FuzzCookieToken(f *testing.F) {
	const tok = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	f.Add("session", "session="+tok, "")
	f.Add("session", `a=1; session="`+tok+`"; b=2`, "")
	f.Add("session", "session=bad\\; session="+tok, "session=x")
	f.Add("session", " session = "+tok+" ;", "")
	f.Add("sid", "session="+tok, "sid="+tok+"x")
	f.Add("a(b", "a(b="+tok, "")
	f.Fuzz(func(t *testing.T, name, line1, line2 string) {
		m, err := session.New(session.Options{Store: nopStore{}, CookieName: name})
		if err != nil {
			return // an invalid name is refused by New
		}
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = []string{line1}
		if line2 != "" {
			r.Header["Cookie"] = append(r.Header["Cookie"], line2)
		}
		want := ""
		if c, err := r.Cookie(name); err == nil && session.ValidToken(c.Value) {
			want = c.Value
		}
		if got := m.CookieToken(r); got != want {
			t.Fatalf("cookieToken(%q, %q) = %q, net/http finds %q", line1, line2, got, want)
		}
	})
}

// nopStore is a Store that holds nothing.
type nopStore struct{}

func (nopStore) Find(context.Context, string) ([]byte, bool, error)      { return nil, false, nil }
func (nopStore) Commit(context.Context, string, []byte, time.Time) error { return nil }
func (nopStore) Delete(context.Context, string) error                    { return nil }

// FuzzCanonicalTime: a time text that the filter writes back unformatted
// (canonicalTime) is exactly what formatting its time would write.
func FuzzCanonicalTime(f *testing.F) {
	f.Add("2026-11-26T07:30:00Z")
	f.Add("2026-11-26T07:30:00.123456789Z")
	f.Add("2026-11-26T07:30:00.120Z")
	f.Add("2026-11-26T07:30:00+02:00")
	f.Add("0001-01-01T00:00:00Z")
	f.Add("2026-11-26t07:30:00Z")
	f.Fuzz(func(t *testing.T, text string) {
		tm, err := time.Parse(time.RFC3339Nano, text)
		if err != nil || !session.CanonicalTime([]byte(text)) {
			return
		}
		b, err := session.AppendTime(nil, tm)
		if err != nil {
			t.Fatalf("AppendTime(%v): %v", tm, err)
		}
		if want := `"` + text + `"`; string(b) != want {
			t.Fatalf("canonical %q formats as %s", text, b)
		}
	})
}
