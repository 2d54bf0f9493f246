package fastcgi

// This file implements the FastCGI 1.0 record layer: record headers and
// padding, name-value pairs and the fixed bodies of the management and
// request records; no HTTP here.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gopaste/gopaste/internal/cgivars"
)

// Version1 is the only FastCGI protocol version.
const Version1 = 1

// HeaderSize is the size of a record header.
const HeaderSize = 8

// MaxContent is the largest content one record carries.
const MaxContent = 65535

// RecordType is the type byte of a record header.
type RecordType uint8

// Record types of FastCGI 1.0, section 8.
const (
	TypeBeginRequest    RecordType = 1
	TypeAbortRequest    RecordType = 2
	TypeEndRequest      RecordType = 3
	TypeParams          RecordType = 4
	TypeStdin           RecordType = 5
	TypeStdout          RecordType = 6
	TypeStderr          RecordType = 7
	TypeData            RecordType = 8
	TypeGetValues       RecordType = 9
	TypeGetValuesResult RecordType = 10
	TypeUnknownType     RecordType = 11
)

func (t RecordType) String() string {
	names := [...]string{"", "BEGIN_REQUEST", "ABORT_REQUEST", "END_REQUEST", "PARAMS", "STDIN",
		"STDOUT", "STDERR", "DATA", "GET_VALUES", "GET_VALUES_RESULT", "UNKNOWN_TYPE"}
	if t > 0 && int(t) < len(names) {
		return names[t]
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// Roles of a BEGIN_REQUEST record.
const (
	RoleResponder  = 1
	RoleAuthorizer = 2
	RoleFilter     = 3
)

// FlagKeepConn in a BEGIN_REQUEST asks the application to keep the
// connection open after the request.
const FlagKeepConn = 1

// Protocol status values of an END_REQUEST record.
const (
	StatusRequestComplete = 0
	StatusCantMultiplex   = 1
	StatusOverloaded      = 2
	StatusUnknownRole     = 3
)

// Management variable names of GET_VALUES.
const (
	MaxConnsVar  = "FCGI_MAX_CONNS"
	MaxReqsVar   = "FCGI_MAX_REQS"
	MpxsConnsVar = "FCGI_MPXS_CONNS"
)

var (
	// ErrVersion is returned for a record whose version byte is not 1.
	ErrVersion = errors.New("fastcgi: unsupported protocol version")
	// ErrMalformedPairs is returned for name-value pairs whose lengths do
	// not add up.
	ErrMalformedPairs = errors.New("fastcgi: malformed name-value pairs")
	// ErrShortBody is returned for a BEGIN_REQUEST or END_REQUEST record
	// shorter than its fixed 8-byte body.
	ErrShortBody = errors.New("fastcgi: record body too short")
)

// Header is a record header.
type Header struct {
	Version       uint8
	Type          RecordType
	ID            uint16 // request id; 0 for management records
	ContentLength uint16
	PaddingLength uint8
}

// ParseHeader decodes a record header.
func ParseHeader(b []byte) Header {
	_ = b[7]
	return Header{
		Version:       b[0],
		Type:          RecordType(b[1]),
		ID:            binary.BigEndian.Uint16(b[2:4]),
		ContentLength: binary.BigEndian.Uint16(b[4:6]),
		PaddingLength: b[6],
	}
}

// pad returns the padding that brings n up to a multiple of 8, as the
// specification recommends.
func pad(n int) int { return -n & 7 }

// AppendRecord appends one record with content (at most MaxContent bytes)
// and the padding that aligns it to 8 bytes.
func AppendRecord(dst []byte, t RecordType, id uint16, content []byte) []byte {
	if len(content) > MaxContent {
		panic("fastcgi: record content over 65535 bytes")
	}
	dst = appendHeader(dst, t, id, len(content))
	dst = append(dst, content...)
	return append(dst, make([]byte, pad(len(content)))...)
}

// appendHeader appends the header of a record of type t with n bytes of
// content (at most MaxContent) and the padding pad(n).
func appendHeader(dst []byte, t RecordType, id uint16, n int) []byte {
	return append(dst, Version1, byte(t), byte(id>>8), byte(id), byte(n>>8), byte(n), byte(pad(n)), 0)
}

// AppendStream appends content as records of type t, split at MaxContent.
// Empty content appends nothing: the empty record that ends a stream is
// AppendRecord(dst, t, id, nil).
func AppendStream(dst []byte, t RecordType, id uint16, content []byte) []byte {
	for len(content) > 0 {
		n := min(len(content), MaxContent)
		dst = AppendRecord(dst, t, id, content[:n])
		content = content[n:]
	}
	return dst
}

// BeginRequest is the body of a BEGIN_REQUEST record.
type BeginRequest struct {
	Role  uint16
	Flags uint8
}

// KeepConn reports whether the client asked to keep the connection.
func (b BeginRequest) KeepConn() bool { return b.Flags&FlagKeepConn != 0 }

// AppendBeginRequest appends a BEGIN_REQUEST record.
func AppendBeginRequest(dst []byte, id uint16, b BeginRequest) []byte {
	body := [8]byte{byte(b.Role >> 8), byte(b.Role), b.Flags}
	return AppendRecord(dst, TypeBeginRequest, id, body[:])
}

// ParseBeginRequest decodes a BEGIN_REQUEST body.
func ParseBeginRequest(content []byte) (BeginRequest, error) {
	if len(content) < 8 {
		return BeginRequest{}, ErrShortBody
	}
	return BeginRequest{Role: binary.BigEndian.Uint16(content), Flags: content[2]}, nil
}

// EndRequest is the body of an END_REQUEST record.
type EndRequest struct {
	AppStatus      uint32
	ProtocolStatus uint8
}

// AppendEndRequest appends an END_REQUEST record.
func AppendEndRequest(dst []byte, id uint16, e EndRequest) []byte {
	var body [8]byte
	binary.BigEndian.PutUint32(body[:], e.AppStatus)
	body[4] = e.ProtocolStatus
	return AppendRecord(dst, TypeEndRequest, id, body[:])
}

// ParseEndRequest decodes an END_REQUEST body.
func ParseEndRequest(content []byte) (EndRequest, error) {
	if len(content) < 8 {
		return EndRequest{}, ErrShortBody
	}
	return EndRequest{AppStatus: binary.BigEndian.Uint32(content), ProtocolStatus: content[4]}, nil
}

// AppendUnknownType appends the UNKNOWN_TYPE reply to a management record
// of type t.
func AppendUnknownType(dst []byte, t RecordType) []byte {
	body := [8]byte{byte(t)}
	return AppendRecord(dst, TypeUnknownType, 0, body[:])
}

// Pair is one name-value pair, {Name, Value}: the pair type every
// gateway protocol shares (scgi.Var, uwsgi.Var), so the variables mapped
// from a request are encoded, and those read into a request, without a
// copy.
type Pair = cgivars.Pair

func appendLen(dst []byte, n int) []byte {
	if n < 128 {
		return append(dst, byte(n))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n)|1<<31)
}

// AppendPairs appends the name-value pair encoding of pairs (section 3.4)
// to dst, as a byte stream that AppendStream then cuts into records.
func AppendPairs(dst []byte, pairs []Pair) []byte {
	for _, p := range pairs {
		dst = appendPair(dst, p.Name, p.Value)
	}
	return dst
}

func appendPair(dst []byte, name, value string) []byte {
	dst = appendLen(dst, len(name))
	dst = appendLen(dst, len(value))
	dst = append(dst, name...)
	return append(dst, value...)
}

// ParsePairs decodes a complete name-value pair stream, calling fn for each
// pair in order. The strings are substrings of one copy of b. fn's error
// stops the parse and is returned.
func ParsePairs(b []byte, fn func(name, value string) error) error {
	s := string(b)
	for len(s) > 0 {
		nl, rest, ok := pairLen(s)
		if !ok {
			return ErrMalformedPairs
		}
		vl, rest, ok := pairLen(rest)
		if !ok || uint64(len(rest)) < uint64(nl)+uint64(vl) {
			return ErrMalformedPairs
		}
		if err := fn(rest[:nl], rest[nl:nl+vl]); err != nil {
			return err
		}
		s = rest[nl+vl:]
	}
	return nil
}

func pairLen(s string) (int, string, bool) {
	if len(s) == 0 {
		return 0, "", false
	}
	if s[0] < 128 {
		return int(s[0]), s[1:], true
	}
	if len(s) < 4 {
		return 0, "", false
	}
	n := int(s[0]&0x7f)<<24 | int(s[1])<<16 | int(s[2])<<8 | int(s[3])
	return n, s[4:], true
}

// Reader reads records from a buffered stream. It reuses one buffer (up
// to 64 KiB, grown as records need) for record contents, so Content is
// valid only until the next Next. Not safe for concurrent use.
type Reader struct {
	r   *bufio.Reader
	buf []byte
	// Header and Content of the last record read by Next.
	Header  Header
	Content []byte
}

// NewReader returns a Reader on r.
func NewReader(r *bufio.Reader) *Reader {
	return &Reader{r: r}
}

// Reset makes rr read from r, keeping its buffer.
func (rr *Reader) Reset(r *bufio.Reader) {
	rr.r, rr.Header, rr.Content = r, Header{}, nil
}

// Buffered returns the number of bytes that can be read without blocking.
func (rr *Reader) Buffered() int { return rr.r.Buffered() }

// Next reads the next record. A clean end of stream before a header is
// io.EOF; a record cut short is io.ErrUnexpectedEOF; a version byte other
// than 1 is ErrVersion.
func (rr *Reader) Next() error {
	hb, err := rr.r.Peek(HeaderSize)
	if err != nil {
		if err == io.EOF && len(hb) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	h := ParseHeader(hb)
	rr.r.Discard(HeaderSize)
	if h.Version != Version1 {
		return fmt.Errorf("%w %d", ErrVersion, h.Version)
	}
	rr.Header = h
	n := int(h.ContentLength) + int(h.PaddingLength)
	if cap(rr.buf) < n {
		// Grow in steps: most records are small, and a connection
		// should not cost 64 KiB before it needs it.
		rr.buf = make([]byte, min(max(n, 2*cap(rr.buf), 4096), MaxContent+255))
	}
	rr.buf = rr.buf[:n]
	if _, err := io.ReadFull(rr.r, rr.buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	rr.Content = rr.buf[:h.ContentLength]
	return nil
}
