package session

// This file implements the stored format: JSON, documented in
// docs/sessions.md and stable across releases ("format": 1).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Format is the version of the stored format that [Record.Encode] writes.
const Format = 1

// Record is one session as it is written to a store, as JSON:
//
//	{"format":1,"created":"2026-11-26T07:30:00Z","deadline":"2026-11-27T07:30:00Z",
//	 "version":3,"user":"bob","values":{"visits":3}}
//
// Deadline is the absolute end of the session (created + lifetime); the
// store's own expiry, which also honours the idle timeout, may be earlier.
// Version counts the saves; optimistic locking relies on it changing.
type Record struct {
	Format   int                        `json:"format"`
	Created  time.Time                  `json:"created"`
	Deadline time.Time                  `json:"deadline"`
	Version  int64                      `json:"version"`
	User     string                     `json:"user,omitempty"`
	Values   map[string]json.RawMessage `json:"values"`
}

// ErrCorrupt is wrapped by [DecodeRecord] for data that is not a session
// record of a known format.
var ErrCorrupt = errors.New("session: corrupt session data")

// Encode returns the record as encoding/json writes it (keys sorted,
// values compacted, <, > and & escaped), with Format set. Each value must
// be valid JSON, as Put and DecodeRecord make them.
//
// It is written field by field rather than with json.Marshal, whose
// reflection was a third of the session filter's cost
// (docs/benchmarks.md); FuzzEncode checks that the bytes are
// json.Marshal's, error for error.
func (rec *Record) Encode() ([]byte, error) {
	rec.Format = Format
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	size := 128 + len(rec.User)
	keys := make([]string, 0, len(rec.Values))
	for k, v := range rec.Values {
		size += len(k) + len(v) + 4
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, `{"format":`...)
	b = strconv.AppendInt(b, int64(rec.Format), 10)
	b = append(b, `,"created":`...)
	b, err := appendTime(b, rec.Created)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	b = append(b, `,"deadline":`...)
	if b, err = appendTime(b, rec.Deadline); err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, rec.Version, 10)
	if rec.User != "" {
		b = append(b, `,"user":`...)
		b = appendString(b, rec.User)
	}
	b = append(b, `,"values":{`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, rec.Values[k]); err != nil {
			return nil, fmt.Errorf("session: encode: value of %q: %w", k, err)
		}
	}
	return append(b, "}}"...), nil
}

// appendTime appends t as time.Time's MarshalJSON writes it.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// appendString appends s as a JSON string. Printable ASCII with nothing
// to escape (most keys and user names) is copied as it is; anything else
// goes through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendValue appends v as encoding/json writes a json.RawMessage: null
// when empty, else compacted, with <, >, &, U+2028 and U+2029 escaped. A
// valid value holding none of those bytes (or white space) is copied as
// it is, as values from Put are.
func appendValue(b []byte, v json.RawMessage) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	if !bytes.ContainsAny(v, " \t\r\n<>&\u2028\u2029") && json.Valid(v) {
		return append(b, v...), nil
	}
	var compact, escaped bytes.Buffer
	if err := json.Compact(&compact, v); err != nil {
		return nil, err
	}
	json.HTMLEscape(&escaped, compact.Bytes())
	return append(b, escaped.Bytes()...), nil
}

// DecodeRecord parses a record written by [Record.Encode] (or by any
// earlier release: the format is stable). Anything else, a record of
// another format included, gives an error wrapping [ErrCorrupt]. The
// record shares no memory with data.
//
// A record laid out as Encode writes it, the usual case, is read field by
// field (decodeEncoded); anything else goes through encoding/json.
func DecodeRecord(data []byte) (*Record, error) {
	rec := new(Record)
	if err := rec.decode(data); err != nil {
		return nil, err
	}
	return rec, nil
}

// decode sets rec from data, as DecodeRecord returns it.
func (rec *Record) decode(data []byte) error {
	if decodeEncoded(rec, data) {
		return nil
	}
	r, err := decodeJSON(data)
	if err != nil {
		return err
	}
	*rec = *r
	return nil
}

// decodeJSON is DecodeRecord through encoding/json.
func decodeJSON(data []byte) (*Record, error) {
	rec := new(Record)
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if rec.Format != Format {
		return nil, fmt.Errorf("%w: format %d", ErrCorrupt, rec.Format)
	}
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	return rec, nil
}

// decodeEncoded reads into rec a record laid out exactly as Encode writes it,
// with no escape in its strings, without encoding/json's reflection (two
// thirds of the filter's cost once encoding was done by hand). It
// reports false for anything else (white space, another field order,
// escapes), which decodeJSON then reads. FuzzDecodeRecord checks that
// what it accepts decodes as encoding/json decodes it.
func decodeEncoded(rec *Record, data []byte) bool {
	*rec = Record{Format: Format, Values: map[string]json.RawMessage{}}
	d, ok := bytes.CutPrefix(data, []byte(`{"format":1,"created":`))
	if !ok {
		return false
	}
	if rec.Created, d, ok = cutTime(d); !ok {
		return false
	}
	if d, ok = bytes.CutPrefix(d, []byte(`,"deadline":`)); !ok {
		return false
	}
	if rec.Deadline, d, ok = cutTime(d); !ok {
		return false
	}
	if d, ok = bytes.CutPrefix(d, []byte(`,"version":`)); !ok {
		return false
	}
	if rec.Version, d, ok = cutInt(d); !ok {
		return false
	}
	if rest, found := bytes.CutPrefix(d, []byte(`,"user":`)); found {
		if rec.User, d, ok = cutString(rest); !ok {
			return false
		}
	}
	if d, ok = bytes.CutPrefix(d, []byte(`,"values":{`)); !ok {
		return false
	}
	for first := true; ; first = false {
		if rest, end := bytes.CutPrefix(d, []byte("}}")); end {
			return len(rest) == 0
		}
		if !first {
			if d, ok = bytes.CutPrefix(d, []byte(",")); !ok {
				return false
			}
		}
		var key string
		if key, d, ok = cutString(d); !ok {
			return false
		}
		if d, ok = bytes.CutPrefix(d, []byte(":")); !ok {
			return false
		}
		v := d[:valueLen(d)]
		if len(v) == 0 || isSpace(v[0]) || isSpace(v[len(v)-1]) || !json.Valid(v) {
			return false
		}
		rec.Values[key] = bytes.Clone(v)
		d = d[len(v):]
	}
}

// cutString reads the JSON string at the start of d when it has no
// escape, no control byte and valid UTF-8: what encoding/json decodes it
// to is then its bytes.
func cutString(d []byte) (s string, rest []byte, ok bool) {
	if len(d) == 0 || d[0] != '"' {
		return "", nil, false
	}
	n := bytes.IndexByte(d[1:], '"')
	if n < 0 {
		return "", nil, false
	}
	b := d[1 : 1+n]
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return "", nil, false
		}
	}
	if !utf8.Valid(b) {
		return "", nil, false
	}
	return string(b), d[2+n:], true
}

// cutTime reads the quoted time at the start of d with time.Time's
// UnmarshalJSON, as encoding/json does.
func cutTime(d []byte) (t time.Time, rest []byte, ok bool) {
	if len(d) == 0 || d[0] != '"' {
		return t, nil, false
	}
	n := bytes.IndexByte(d[1:], '"')
	if n < 0 || bytes.IndexByte(d[1:1+n], '\\') >= 0 {
		return t, nil, false
	}
	if t.UnmarshalJSON(d[:2+n]) != nil {
		return t, nil, false
	}
	return t, d[2+n:], true
}

// cutInt reads the integer at the start of d when it is written as
// strconv writes it (as Encode does), which encoding/json reads the same.
func cutInt(d []byte) (n int64, rest []byte, ok bool) {
	i := 0
	for i < len(d) && (d[i] == '-' || '0' <= d[i] && d[i] <= '9') {
		i++
	}
	n, err := strconv.ParseInt(string(d[:i]), 10, 64)
	var buf [20]byte
	if err != nil || string(strconv.AppendInt(buf[:0], n, 10)) != string(d[:i]) {
		return 0, nil, false
	}
	return n, d[i:], true
}

// valueLen returns the length of the JSON value at the start of d: up to
// the ',' or '}' that follows it outside strings and brackets. The caller
// checks the value with json.Valid.
func valueLen(d []byte) int {
	depth, inString := 0, false
	for i := 0; i < len(d); i++ {
		switch c := d[i]; {
		case inString && c == '\\':
			i++ // the escaped byte
		case inString:
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case (c == '}' || c == ']') && depth > 0:
			depth--
		case c == '}' || c == ']' || c == ',' && depth == 0:
			return i
		}
	}
	return len(d)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
