package session_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
)

// TestDecodeOldRecords: records written by the hand-written codec of
// earlier releases (testdata/format1, bytes as it wrote them: values
// verbatim, <&> unescaped, times as it found them) decode to what was
// stored, and what Encode writes for them decodes to the same record.
func TestDecodeOldRecords(t *testing.T) {
	c := time.Date(2026, 11, 26, 7, 30, 0, 0, time.UTC)
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		file string
		want session.Record
	}{
		{"plain.json", session.Record{Format: 1, Created: c, Deadline: c.Add(24 * time.Hour), Version: 3, User: "bob",
			Values: map[string]json.RawMessage{"visits": raw(`3`), "cart": raw(`{"items":[12,40]}`)}}},
		{"nouser.json", session.Record{Format: 1, Created: c.Add(123456789), Deadline: c.Add(24*time.Hour + 120*time.Millisecond), Version: 1,
			Values: map[string]json.RawMessage{}}},
		{"escapes.json", session.Record{Format: 1, Created: c, Deadline: c.Add(time.Hour), Version: 42, User: "b\"ob <&> é\n",
			Values: map[string]json.RawMessage{"k\"ey<>": raw(`"x\"}<&>"`), "t": raw(`"2026-11-26T07:30:00.5Z"`),
				"n": raw(`null`), "f": raw(`1.5e3`), "neg": raw(`-7`), "b": raw(`true`)}}},
		{"resaved.json", session.Record{Format: 1, Created: c.Add(120 * time.Millisecond), Deadline: c.Add(24 * time.Hour), Version: 6,
			Values: map[string]json.RawMessage{"a": raw(`[1,2]`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "format1", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := session.DecodeRecord(data)
			if err != nil {
				t.Fatalf("DecodeRecord(%s): %v", data, err)
			}
			if !sameRecord(got, &tt.want) {
				t.Errorf("DecodeRecord(%s) = %+v, want %+v", data, got, tt.want)
			}
			again, err := got.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if back, err := session.DecodeRecord(again); err != nil || !sameRecord(back, &tt.want) {
				t.Errorf("Encode wrote %s, which decodes to %+v (%v)", again, back, err)
			}
		})
	}
}

// TestEncodeLayout: the bytes of a record are those docs/sessions.md
// shows, fields in their documented order.
func TestEncodeLayout(t *testing.T) {
	c := time.Date(2026, 11, 26, 7, 30, 0, 0, time.UTC)
	rec := session.Record{Created: c, Deadline: c.Add(24 * time.Hour), Version: 3, User: "bob",
		Values: map[string]json.RawMessage{"visits": json.RawMessage(`3`), "cart": json.RawMessage(`{"items": [12, 40]}`)}}
	got, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z",` +
		`"version":3,"user":"bob","values":{"cart":{"items":[12,40]},"visits":3}}`
	if string(got) != want {
		t.Errorf("Encode = %s\nwant     %s", got, want)
	}
	old, err := os.ReadFile(filepath.Join("testdata", "format1", "plain.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(old) != want {
		t.Errorf("the earlier codec wrote %s for the same record", old)
	}
}

// TestDecodeRefuses: what is not a format-1 record is ErrCorrupt.
func TestDecodeRefuses(t *testing.T) {
	for _, data := range []string{``, `null`, `{}`, `{"format":2,"values":{}}`, `{"format":1,"created":"yesterday"}`, `[1]`, `{"format":1} x`} {
		if _, err := session.DecodeRecord([]byte(data)); err == nil {
			t.Errorf("DecodeRecord(%q) = nil error", data)
		}
	}
}

// benchRecord is what the session_info app stores: one counter.
const benchRecord = `{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":7,"values":{"visits":7}}`

func BenchmarkDecodeRecord(b *testing.B) {
	data := []byte(benchRecord)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := session.DecodeRecord(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	rec, err := session.DecodeRecord([]byte(benchRecord))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rec.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodeEncodedReads: what Encode writes for usual records (plain
// keys and user, any values) is read field by field, not through
// encoding/json; escapes and white space are left to encoding/json.
func TestDecodeEncodedReads(t *testing.T) {
	c := time.Date(2026, 11, 26, 7, 30, 0, 123000000, time.UTC)
	for _, rec := range []session.Record{
		{Created: c, Deadline: c.Add(24 * time.Hour), Version: 7, Values: map[string]json.RawMessage{"visits": json.RawMessage(`7`)}},
		{Created: c, Deadline: c.Add(time.Hour), Version: 1},
		{Created: c.In(time.FixedZone("", 3600)), Deadline: c, Version: -2, User: "bob@example.com",
			Values: map[string]json.RawMessage{"cart": json.RawMessage(`{"items":[12,40],"note":"a, b}"}`),
				"s": json.RawMessage(`"x\"y"`), "n": json.RawMessage(`null`), "f": json.RawMessage(`-1.5e3`), "é": json.RawMessage(`true`)}},
	} {
		data, err := rec.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := session.DecodeEncoded(data)
		if !ok {
			t.Errorf("%s is left to encoding/json", data)
			continue
		}
		if !identical(got, &rec) {
			t.Errorf("%s reads as %+v", data, got)
		}
	}
	for _, data := range []string{
		`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":7,"user":"b\"ob","values":{}}`,
		`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":7,"values":{"a": 1}}`,
		`{"format":1, "created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":7,"values":{}}`,
		`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":7,"values":{}} `,
		`{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z","version":07,"values":{}}`,
	} {
		if _, ok := session.DecodeEncoded([]byte(data)); ok {
			t.Errorf("%s is read field by field", data)
		}
		if _, err := session.DecodeRecord([]byte(data)); err != nil && !strings.Contains(data, "07,") {
			t.Errorf("DecodeRecord(%s): %v", data, err)
		}
	}
}

// TestMarshal: Put's values are json.Marshal's bytes.
func TestMarshal(t *testing.T) {
	for _, v := range []any{0, -1, 1 << 62, int64(-1 << 63), true, false, "", "bob", "b\"ob <&> é\n\x00\xff\u2028",
		1.5, []int{1, 2}, map[string]any{"a": nil}, nil, time.Date(2026, 11, 26, 7, 30, 0, 5, time.UTC)} {
		got, err := session.Marshal(v)
		want, werr := json.Marshal(v)
		if string(got) != string(want) || (err == nil) != (werr == nil) {
			t.Errorf("Marshal(%#v) = %s, %v; json.Marshal: %s, %v", v, got, err, want, werr)
		}
	}
}
