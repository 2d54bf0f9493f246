package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"time"
)

// Entry is a stored response, or, when Vary is set and Status is 0, a
// marker saying which request headers select the stored variants of a URL.
//
// An Entry handed to or returned by a [Store] is shared: nobody modifies
// it after it is stored.
type Entry struct {
	Status     int
	Header     http.Header
	Body       []byte
	Stored     time.Time     // when the response was received
	FreshUntil time.Time     // end of its freshness; stale after
	InitialAge time.Duration // the Age the backend reported
	Vary       []string      // canonical request header names the response varies on

	varyKey string // the variant selector of the request that fetched it; not stored
}

// size approximates the memory an entry holds, for the LRU bound.
func (e *Entry) size() int64 {
	n := int64(len(e.Body)) + 64
	for k, vs := range e.Header {
		n += int64(len(k)) + 16
		for _, v := range vs {
			n += int64(len(v)) + 16
		}
	}
	for _, v := range e.Vary {
		n += int64(len(v)) + 16
	}
	return n
}

// Store keeps entries by key. Implementations must be safe for concurrent
// use. A missing or expired key is found=false with a nil error.
type Store interface {
	// Get returns the entry stored under key.
	Get(ctx context.Context, key string) (e *Entry, found bool, err error)
	// Set stores e under key for ttl (> 0).
	Set(ctx context.Context, key string, e *Entry, ttl time.Duration) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// This part encodes entries for stores that keep bytes (Redis).

const entryMagic = "GPC1"

// ErrCorrupt is returned by [UnmarshalEntry] for bytes it did not write.
var ErrCorrupt = errors.New("cache: corrupt entry")

// maxEncodedItems bounds the counts read from an encoded entry, so bad
// input cannot ask for a huge allocation.
const maxEncodedItems = 1 << 16

// MarshalEntry encodes e (all exported fields) as bytes.
func MarshalEntry(e *Entry) []byte {
	b := make([]byte, 0, e.size()+32)
	b = append(b, entryMagic...)
	b = binary.AppendUvarint(b, uint64(e.Status))
	b = binary.AppendVarint(b, e.Stored.UnixNano())
	b = binary.AppendVarint(b, e.FreshUntil.UnixNano())
	b = binary.AppendVarint(b, int64(e.InitialAge))
	b = binary.AppendUvarint(b, uint64(len(e.Vary)))
	for _, v := range e.Vary {
		b = appendString(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(e.Header)))
	for k, vs := range e.Header {
		b = appendString(b, k)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			b = appendString(b, v)
		}
	}
	b = appendString(b, string(e.Body))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		d.err = true
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) count() int {
	n := d.uvarint()
	// Every item takes at least one byte, so a count above what is left
	// is a lie.
	if d.err || n > maxEncodedItems || n > uint64(len(d.b)) {
		d.err = true
		return 0
	}
	return int(n)
}

// UnmarshalEntry decodes bytes written by [MarshalEntry].
func UnmarshalEntry(b []byte) (*Entry, error) {
	if len(b) < len(entryMagic) || string(b[:len(entryMagic)]) != entryMagic {
		return nil, ErrCorrupt
	}
	d := &decoder{b: b[len(entryMagic):]}
	e := &Entry{}
	st := d.uvarint()
	if st > 999 {
		return nil, ErrCorrupt
	}
	e.Status = int(st)
	e.Stored = time.Unix(0, d.varint())
	e.FreshUntil = time.Unix(0, d.varint())
	e.InitialAge = time.Duration(d.varint())
	if n := d.count(); n > 0 {
		e.Vary = make([]string, n)
		for i := range e.Vary {
			e.Vary[i] = string(d.bytes())
		}
	}
	n := d.count()
	e.Header = make(http.Header, n)
	for i := 0; i < n && !d.err; i++ {
		k := string(d.bytes())
		m := d.count()
		vs := make([]string, 0, m)
		for j := 0; j < m && !d.err; j++ {
			vs = append(vs, string(d.bytes()))
		}
		e.Header[k] = vs
	}
	body := d.bytes()
	if d.err || len(d.b) != 0 {
		return nil, ErrCorrupt
	}
	if len(body) > 0 {
		e.Body = append([]byte(nil), body...)
	}
	return e, nil
}
