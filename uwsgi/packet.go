package uwsgi

// This file implements the uwsgi wire format (packet header and the vars
// block); no HTTP here.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopaste/gopaste/internal/cgivars"
)

// HeaderSize is the size of a uwsgi packet header: modifier1 (u8), datasize
// (u16, little-endian), modifier2 (u8).
const HeaderSize = 4

// MaxVarsSize is the largest vars block a packet can carry: its size is a
// 16-bit field.
const MaxVarsSize = 65535

// Modifiers this package knows by name.
const (
	// ModifierWSGI (0) is a request with CGI/WSGI variables, the one nginx
	// and Apache send by default.
	ModifierWSGI = 0
	// ModifierFixPath (30) is ModifierWSGI where SCRIPT_NAME is removed from
	// the front of PATH_INFO by the server.
	ModifierFixPath = 30
)

var (
	// ErrVarsTooLarge is returned when encoding vars that do not fit the
	// 16-bit size fields of the protocol, and when decoding a vars block
	// larger than the reader's limit.
	ErrVarsTooLarge = errors.New("uwsgi: vars block too large")
	// ErrMalformedVars is returned for a vars block whose length prefixes
	// do not add up to its size.
	ErrMalformedVars = errors.New("uwsgi: malformed vars block")
)

// Header is a uwsgi packet header.
type Header struct {
	Modifier1 uint8
	Size      uint16 // size of the vars block that follows
	Modifier2 uint8
}

// Var is one name/value pair of a vars block, {Name, Value}: the pair
// type every gateway protocol shares (scgi.Var, fastcgi.Pair), so the
// variables mapped from a request go onto the wire, and those read from
// it into a request, without a copy.
type Var = cgivars.Pair

// VarsSize returns the encoded size of vars, or ErrVarsTooLarge when one
// string or the whole block does not fit in 16 bits.
func VarsSize(vars []Var) (int, error) {
	n := 0
	for _, v := range vars {
		if len(v.Name) > MaxVarsSize || len(v.Value) > MaxVarsSize {
			return 0, ErrVarsTooLarge
		}
		n += 4 + len(v.Name) + len(v.Value)
		if n > MaxVarsSize {
			return 0, ErrVarsTooLarge
		}
	}
	return n, nil
}

// AppendPacket appends a packet header with modifier1 and modifier2 and the
// vars block to dst. Vars that do not fit give ErrVarsTooLarge and dst
// unchanged: nothing is ever truncated.
func AppendPacket(dst []byte, modifier1, modifier2 uint8, vars []Var) ([]byte, error) {
	size, err := VarsSize(vars)
	if err != nil {
		return dst, fmt.Errorf("%w: more than %d bytes", err, MaxVarsSize)
	}
	dst = append(dst, modifier1, byte(size), byte(size>>8), modifier2)
	for _, v := range vars {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(v.Name)))
		dst = append(dst, v.Name...)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(v.Value)))
		dst = append(dst, v.Value...)
	}
	return dst, nil
}

// WritePacket writes a packet (header and vars) to w in one Write.
func WritePacket(w io.Writer, modifier1, modifier2 uint8, vars []Var) error {
	b, err := AppendPacket(nil, modifier1, modifier2, vars)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// ParseHeader decodes the 4 bytes of a header.
func ParseHeader(b [HeaderSize]byte) Header {
	return Header{Modifier1: b[0], Size: binary.LittleEndian.Uint16(b[1:3]), Modifier2: b[3]}
}

// ParseVars decodes a vars block, calling fn for each pair in order. The
// strings passed to fn are copies. fn's error stops the parse and is
// returned.
func ParseVars(b []byte, fn func(name, value string) error) error {
	s := string(b) // one copy; the pairs are substrings of it
	for len(s) > 0 {
		name, rest, ok := lenString(s)
		if !ok {
			return ErrMalformedVars
		}
		value, rest, ok := lenString(rest)
		if !ok {
			return ErrMalformedVars
		}
		if err := fn(name, value); err != nil {
			return err
		}
		s = rest
	}
	return nil
}

func lenString(s string) (string, string, bool) {
	if len(s) < 2 {
		return "", "", false
	}
	n := int(s[0]) | int(s[1])<<8
	s = s[2:]
	if len(s) < n {
		return "", "", false
	}
	return s[:n], s[n:], true
}

// ReadPacket reads a header and its vars block from r. A vars block larger
// than max bytes (max <= 0 means MaxVarsSize) is refused with
// ErrVarsTooLarge before it is read. A packet cut short gives
// io.ErrUnexpectedEOF; no bytes at all give io.EOF.
func ReadPacket(r *bufio.Reader, max int) (Header, []Var, error) {
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return Header{}, nil, err
	}
	h := ParseHeader(hb)
	if max <= 0 || max > MaxVarsSize {
		max = MaxVarsSize
	}
	if int(h.Size) > max {
		return h, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrVarsTooLarge, h.Size, max)
	}
	block := make([]byte, h.Size)
	if _, err := io.ReadFull(r, block); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, err
	}
	vars := make([]Var, 0, 24)
	err := ParseVars(block, func(name, value string) error {
		vars = append(vars, Var{Name: name, Value: value})
		return nil
	})
	return h, vars, err
}
