package session_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
)

// FuzzDecodeRecord: any bytes decode to a record or an ErrCorrupt error,
// never a panic; what the field-by-field reader accepts, encoding/json
// decodes to the same record; and a decoded record round-trips: it
// encodes to json.Marshal's bytes, which decode to the same record and
// encode to the same bytes again.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":3,"user":"bob","values":{"visits":3}}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`{"format":1,"values":null} {}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00.123456789+02:00","deadline":"2026-11-27T07:30:00Z","version":-3,"user":"b\\"ob","values":{"a":"x\\"}","b":[1,{"c":[]}],"c":{},"d":null,"e":1.5e3}}`))
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":1,"values":{"a": [1, 2] ,"b":"<&>"}}`))
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":3,"user":"bob","values":{"a":[1, {"b":"}],\\\"x"}],"c":" , ","d":{}}}`))
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":007,"values":{"a":1,"a":2}}`))
	f.Add([]byte(`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":3,"values":{"\xff":1," a":-0,"c":1e2 }}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, ok := session.DecodeEncoded(data); ok {
			want, err := session.DecodeJSON(data)
			if err != nil {
				t.Fatalf("the field-by-field reader accepts %q, encoding/json refuses it: %v", data, err)
			}
			if !identical(fast, want) {
				t.Fatalf("%q: the field-by-field reader gives %+v, encoding/json %+v", data, fast, want)
			}
		}
		rec, err := session.DecodeRecord(data)
		if err != nil {
			if !errors.Is(err, session.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := rec.Encode()
		if want, werr := json.Marshal(rec); !bytes.Equal(again, want) || (err == nil) != (werr == nil) {
			t.Fatalf("Encode = %s, %v; json.Marshal = %s, %v", again, err, want, werr)
		}
		if err != nil {
			// Only a time that parses but that time.MarshalJSON refuses
			// (an offset out of its range) may fail.
			if _, e1 := rec.Created.MarshalJSON(); e1 != nil {
				return
			}
			if _, e2 := rec.Deadline.MarshalJSON(); e2 != nil {
				return
			}
			t.Fatalf("re-encode of %+v: %v", rec, err)
		}
		rec2, err := session.DecodeRecord(again)
		if err != nil {
			t.Fatalf("decode of re-encoded %s: %v", again, err)
		}
		if !sameRecord(rec, rec2) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", rec, rec2)
		}
		third, err := rec2.Encode()
		if err != nil || !bytes.Equal(again, third) {
			t.Fatalf("not stable (%v):\n%s\n%s", err, again, third)
		}
	})
}

// FuzzRecordRoundTrip: a record the filter could write (any user, key
// and string value, times in range) decodes to what was encoded.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("bob", "visits", "x", int64(3), int64(1796000000123456789), uint32(86400))
	f.Add("", "", "", int64(0), int64(0), uint32(0))
	f.Add("b\"ob <&>\x00\xff", "k\\ey\u2028", "\"}", int64(-1), int64(-62135596800000000), uint32(1))
	f.Fuzz(func(t *testing.T, user, key, val string, version, created int64, life uint32) {
		c := time.Unix(0, created).UTC()
		if c.Year() > 9000 {
			return
		}
		v, err := json.Marshal(val)
		if err != nil {
			t.Fatal(err)
		}
		rec := &session.Record{Created: c, Deadline: c.Add(time.Duration(life) * time.Second),
			Version: version, User: user, Values: map[string]json.RawMessage{key: v}}
		data, err := rec.Encode()
		if err != nil {
			t.Fatalf("Encode(%+v): %v", rec, err)
		}
		got, err := session.DecodeRecord(data)
		if err != nil {
			t.Fatalf("DecodeRecord(%s): %v", data, err)
		}
		// encoding/json writes invalid UTF-8 as U+FFFD: compare with that.
		rec.User = string([]rune(user))
		rec.Values = map[string]json.RawMessage{string([]rune(key)): v}
		if !sameRecord(rec, got) {
			t.Fatalf("encoded %+v as %s, decoded %+v", rec, data, got)
		}
	})
}

// FuzzEncode: Encode writes exactly what json.Marshal writes for the
// record, and fails exactly when it fails: any user, keys and raw values
// (valid JSON or not, with white space, <, >, &, U+2028, invalid UTF-8),
// any times.
func FuzzEncode(f *testing.F) {
	f.Add("bob", "visits", []byte(`3`), "cart", []byte(`{"items": [12, 40]}`), int64(3), int64(1796000000123456789), int64(86400), int32(0))
	f.Add("", "", []byte(``), "k", []byte(`null`), int64(0), int64(0), int64(0), int32(3600))
	f.Add("b\"ob <&>\x00\xff\x7f", "k\\ey\u2028", []byte(`"x\"}<&>\u2029 \xff"`), "a", []byte(`[1, 2`), int64(-1), int64(-62135596800000000), int64(1), int32(-3600))
	f.Add("\b\f\n\r\t", "\u2029", []byte(" {\"a\" : [ true , false ] }\n"), "b", []byte(`1}`), int64(9), int64(9223372036854775807), int64(-1), int32(86399))
	f.Fuzz(func(t *testing.T, user, k1 string, v1 []byte, k2 string, v2 []byte, version, created, life int64, offset int32) {
		c := time.Unix(0, created).In(time.FixedZone("", int(offset)))
		rec := &session.Record{Created: c, Deadline: c.Add(time.Duration(life)), Version: version, User: user,
			Values: map[string]json.RawMessage{k1: v1, k2: v2}}
		got, err := rec.Encode()
		want, werr := json.Marshal(rec)
		if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("Encode = %s, %v\njson.Marshal = %s, %v", got, err, want, werr)
		}
	})
}

// identical reports whether a and b hold the same fields, times with the
// same offset and values byte for byte.
func identical(a, b *session.Record) bool {
	if a.Format != b.Format || a.Version != b.Version || a.User != b.User || len(a.Values) != len(b.Values) ||
		a.Created.Format(time.RFC3339Nano) != b.Created.Format(time.RFC3339Nano) || !a.Created.Equal(b.Created) ||
		a.Deadline.Format(time.RFC3339Nano) != b.Deadline.Format(time.RFC3339Nano) || !a.Deadline.Equal(b.Deadline) {
		return false
	}
	for k, v := range a.Values {
		if w, ok := b.Values[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func sameRecord(a, b *session.Record) bool {
	if a.Format != b.Format || !a.Created.Equal(b.Created) || !a.Deadline.Equal(b.Deadline) ||
		a.Version != b.Version || a.User != b.User || len(a.Values) != len(b.Values) {
		return false
	}
	for k, v := range a.Values {
		w, ok := b.Values[k]
		if !ok || normal(v) != normal(w) {
			return false
		}
	}
	return true
}

// normal is a JSON value without white space, with <, > and & escaped,
// as encoding/json writes it.
func normal(v []byte) string {
	var c, e bytes.Buffer
	if json.Compact(&c, v) != nil {
		return "invalid " + string(v)
	}
	json.HTMLEscape(&e, c.Bytes())
	return e.String()
}
