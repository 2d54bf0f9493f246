package session_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

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
