package session

// This file implements the stored format: JSON, documented in
// docs/sessions.md and stable across releases ("format": 1).

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
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
// values compacted), with Format set. Each value must be valid JSON, as
// Put and DecodeRecord make them.
func (rec *Record) Encode() ([]byte, error) {
	rec.Format = Format
	if rec.Values == nil {
		rec.Values = map[string]json.RawMessage{}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("session: encode: %w", err)
	}
	return b, nil
}

// DecodeRecord parses a record written by [Record.Encode] (or by any
// earlier release: the format is stable). Anything else, a record of
// another format included, gives an error wrapping [ErrCorrupt]. The
// record shares no memory with data.
func DecodeRecord(data []byte) (*Record, error) {
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
