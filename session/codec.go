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
	"unsafe"
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

// Encode returns the record as JSON, with Format set. Values are written
// as they are (each must be valid JSON, as Put and DecodeRecord make
// them), keys in sorted order.
func (rec *Record) Encode() ([]byte, error) {
	rec.Format = Format
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	size := 128 + len(rec.User)
	for k, v := range rec.Values {
		size += len(k) + len(v) + 4
	}
	return rec.appendJSON(make([]byte, 0, size), [2][]byte{})
}

// appendJSON appends the record as Encode writes it (rec.Format must be
// Format). A non-nil text[0] (text[1]) is the formatted Created
// (Deadline), as decodeFast found it: written again without formatting.
func (rec *Record) appendJSON(b []byte, text [2][]byte) ([]byte, error) {
	b = append(b, `{"format":`...)
	b = strconv.AppendInt(b, Format, 10)
	b = append(b, `,"created":`...)
	b, err := appendTimeText(b, rec.Created, text[0])
	if err != nil {
		return nil, err
	}
	b = append(b, `,"deadline":`...)
	if b, err = appendTimeText(b, rec.Deadline, text[1]); err != nil {
		return nil, err
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, rec.Version, 10)
	if rec.User != "" {
		b = append(b, `,"user":`...)
		b = appendString(b, rec.User)
	}
	b = append(b, `,"values":{`...)
	var few [16]string // on the stack for the usual handful of keys
	keys := few[:0]
	for k := range rec.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		v := rec.Values[k]
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		b = append(b, v...)
	}
	return append(b, "}}"...), nil
}

func appendTimeText(b []byte, t time.Time, text []byte) ([]byte, error) {
	if text == nil {
		return appendTime(b, t)
	}
	b = append(b, '"')
	b = append(b, text...)
	return append(b, '"'), nil
}

// canonicalTime reports whether text, which time.Parse read as
// RFC3339Nano, is what appendTime writes for the time it parsed to: a UTC
// time with its fraction, if any, free of trailing zeros.
func canonicalTime(text []byte) bool {
	n := len(text)
	if n < 20 || n > 30 || text[n-1] != 'Z' || n == 21 {
		return false
	}
	for i, c := range text[:19] {
		switch i {
		case 4, 7:
			if c != '-' {
				return false
			}
		case 10:
			if c != 'T' {
				return false
			}
		case 13, 16:
			if c != ':' {
				return false
			}
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	if n == 20 {
		return true
	}
	if text[19] != '.' || text[n-2] == '0' {
		return false
	}
	for _, c := range text[20 : n-1] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("session: time %v out of range", t)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendString appends s as a JSON string, as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// DecodeRecord parses data written by [Record.Encode]. Anything else, a
// record of another format included, gives an error wrapping [ErrCorrupt].
func DecodeRecord(data []byte) (*Record, error) {
	rec := new(Record)
	if err := decodeRecord(data, rec, false, nil); err != nil {
		return nil, err
	}
	return rec, nil
}

// decodeRecord is DecodeRecord into rec. With shared, the values and keys
// of rec may point into data, which the caller then must never modify.
//
// With text non-nil, it receives the text of Created and Deadline when
// appendTime writes them so (see canonicalTime), else nil.
func decodeRecord(data []byte, rec *Record, shared bool, text *[2][]byte) error {
	if !decodeFast(data, rec, shared, text) {
		if text != nil {
			*text = [2][]byte{}
		}
		slow := new(Record) // not rec, which then stays on the caller's stack
		if err := json.Unmarshal(data, slow); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		*rec = *slow
	}
	if rec.Format != Format {
		return fmt.Errorf("%w: format %d", ErrCorrupt, rec.Format)
	}
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	return nil
}

// decodeFast reads data into rec when it is laid out exactly as Encode
// writes it (with strings without escapes, and each value valid JSON);
// it returns false otherwise, and decodeRecord falls back to
// encoding/json. With shared, keys and values point into data.
func decodeFast(data []byte, rec *Record, shared bool, text *[2][]byte) (ok bool) {
	p := scanner{b: data}
	rec.Format = Format
	var err error
	var created, deadline []byte
	if !p.lit(`{"format":1,"created":`) {
		return false
	}
	if rec.Created, created, ok = p.time(); !ok || !p.lit(`,"deadline":`) {
		return false
	}
	if rec.Deadline, deadline, ok = p.time(); !ok || !p.lit(`,"version":`) {
		return false
	}
	if text != nil {
		*text = [2][]byte{}
		if canonicalTime(created) {
			text[0] = created
		}
		if canonicalTime(deadline) {
			text[1] = deadline
		}
	}
	if rec.Version, err = strconv.ParseInt(bytesString(p.until(',')), 10, 64); err != nil {
		return false
	}
	if p.lit(`,"user":`) {
		u, ok := p.plain()
		if !ok {
			return false
		}
		rec.User = string(u)
	}
	if !p.lit(`,"values":{`) {
		return false
	}
	rec.Values = make(map[string]json.RawMessage, 4)
	if !p.lit("}") {
		for {
			k, ok := p.plain()
			if !ok || !p.lit(":") {
				return false
			}
			v := p.value()
			if len(v) == 0 || !plainInt(v) && !json.Valid(v) {
				return false
			}
			if shared {
				rec.Values[bytesString(k)] = json.RawMessage(v[:len(v):len(v)])
			} else {
				rec.Values[string(k)] = json.RawMessage(bytes.Clone(v))
			}
			if p.lit(",") {
				continue
			}
			if p.lit("}") {
				break
			}
			return false
		}
	}
	return p.lit("}") && p.i == len(p.b)
}

// plainInt reports whether b is a JSON integer (-?(0|[1-9][0-9]*)), the
// common session value, which then needs no json.Valid.
func plainInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || b[0] == '0' && len(b) > 1 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// bytesString returns b as a string without copying; b must never change
// while the string is in use.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// scanner walks a record. value finds the end of a value on the
// assumption that it is valid JSON, which the caller then checks.
type scanner struct {
	b []byte
	i int
}

func (p *scanner) lit(s string) bool {
	if bytes.HasPrefix(p.b[p.i:], []byte(s)) {
		p.i += len(s)
		return true
	}
	return false
}

func (p *scanner) until(c byte) []byte {
	j := bytes.IndexByte(p.b[p.i:], c)
	if j < 0 {
		return nil
	}
	s := p.b[p.i : p.i+j]
	p.i += j
	return s
}

// plain reads a string of printable ASCII without escapes.
func (p *scanner) plain() ([]byte, bool) {
	if !p.lit(`"`) {
		return nil, false
	}
	s := p.until('"')
	if s == nil && (p.i >= len(p.b) || p.b[p.i] != '"') {
		return nil, false
	}
	for _, c := range s {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return nil, false // escapes, control bytes, non-ASCII: encoding/json's job
		}
	}
	p.i++
	return s, true
}

// time reads an RFC 3339 time, returning its text too.
func (p *scanner) time() (time.Time, []byte, bool) {
	s, ok := p.plain()
	if !ok {
		return time.Time{}, nil, false
	}
	// The string does not outlive the call: an error is dropped.
	t, err := time.Parse(time.RFC3339Nano, bytesString(s))
	return t, s, err == nil
}

// value returns the extent of the JSON value at p.i.
func (p *scanner) value() []byte {
	start, depth, inStr := p.i, 0, false
	for ; p.i < len(p.b); p.i++ {
		c := p.b[p.i]
		switch {
		case inStr:
			if c == '\\' {
				p.i++
			} else if c == '"' {
				inStr = false
				if depth == 0 {
					p.i++
					return p.b[start:p.i]
				}
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return p.b[start:p.i]
			}
			depth--
			if depth == 0 {
				p.i++
				return p.b[start:p.i]
			}
		case c == ',' && depth == 0:
			return p.b[start:p.i]
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if depth == 0 {
				return p.b[start:p.i]
			}
		}
	}
	return p.b[start:p.i]
}
