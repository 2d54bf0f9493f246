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
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := session.DecodeRecord(data)
		if err != nil {
			if !errors.Is(err, session.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
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
	})
}
