package wiretest

// This file builds wire bytes from the specifications, by hand, so that a
// test's input does not come from the encoder it tests. Pairs are given as
// name, value, name, value, ...; an odd final name gets an empty value.

import (
	"encoding/binary"
	"fmt"
)

func pairs(kv []string) [][2]string {
	var ps [][2]string
	for i := 0; i < len(kv); i += 2 {
		p := [2]string{kv[i], ""}
		if i+1 < len(kv) {
			p[1] = kv[i+1]
		}
		ps = append(ps, p)
	}
	return ps
}

// Netstring returns an SCGI request header: the netstring
// "LEN:name\0value\0...," of the pairs, in the order given (the SCGI spec
// wants CONTENT_LENGTH first and SCGI=1; the caller decides, so malformed
// headers can be built too).
func Netstring(kv ...string) []byte {
	var body []byte
	for _, p := range pairs(kv) {
		body = append(body, p[0]...)
		body = append(body, 0)
		body = append(body, p[1]...)
		body = append(body, 0)
	}
	return fmt.Appendf(nil, "%d:%s,", len(body), body)
}

// UWSGIPacket returns a uwsgi packet: the 4-byte header (modifier1, the
// little-endian size of the vars block, modifier2) and the vars, each name
// and value preceded by its little-endian 16-bit length. Lengths are not
// checked: a name or block over 65535 bytes gives a malformed packet.
func UWSGIPacket(modifier1, modifier2 byte, kv ...string) []byte {
	var vars []byte
	for _, p := range pairs(kv) {
		vars = binary.LittleEndian.AppendUint16(vars, uint16(len(p[0])))
		vars = append(vars, p[0]...)
		vars = binary.LittleEndian.AppendUint16(vars, uint16(len(p[1])))
		vars = append(vars, p[1]...)
	}
	b := []byte{modifier1, byte(len(vars)), byte(len(vars) >> 8), modifier2}
	return append(b, vars...)
}

// FastCGI record types (FastCGI specification, section 8).
const (
	FCGIBeginRequest = 1
	FCGIAbortRequest = 2
	FCGIEndRequest   = 3
	FCGIParams       = 4
	FCGIStdin        = 5
	FCGIStdout       = 6
	FCGIStderr       = 7
	FCGIData         = 8
	FCGIGetValues    = 9
	FCGIGetValuesRes = 10
	FCGIUnknownType  = 11
)

// FCGIResponder is the responder role and FCGIKeepConn the keep-connection
// flag of a BEGIN_REQUEST body.
const (
	FCGIResponder = 1
	FCGIKeepConn  = 1
)

const (
	fcgiVersion    = 1
	fcgiMaxContent = 65535
)

// FCGIRecord returns one FastCGI version-1 record of type typ for request
// id, with content (at most 65535 bytes; more panics) padded to 8 bytes.
func FCGIRecord(typ byte, id uint16, content []byte) []byte {
	if len(content) > fcgiMaxContent {
		panic("wiretest: FastCGI record content over 65535 bytes")
	}
	pad := (8 - len(content)%8) % 8
	b := []byte{fcgiVersion, typ, byte(id >> 8), byte(id), byte(len(content) >> 8), byte(len(content)), byte(pad), 0}
	b = append(b, content...)
	return append(b, make([]byte, pad)...)
}

// FCGIStream returns content as records of type typ cut at 65535 bytes,
// followed by the empty record that ends the stream.
func FCGIStream(typ byte, id uint16, content []byte) []byte {
	var b []byte
	for len(content) > 0 {
		n := min(len(content), fcgiMaxContent)
		b = append(b, FCGIRecord(typ, id, content[:n])...)
		content = content[n:]
	}
	return append(b, FCGIRecord(typ, id, nil)...)
}

// FCGIBegin returns a BEGIN_REQUEST record with role and flags.
func FCGIBegin(id uint16, role uint16, flags byte) []byte {
	body := make([]byte, 8) // role, flags, 5 reserved bytes
	binary.BigEndian.PutUint16(body, role)
	body[2] = flags
	return FCGIRecord(FCGIBeginRequest, id, body)
}

// FCGIPairs returns the name-value pair encoding of the pairs (section
// 3.4): each length in one byte when under 128, else in four bytes with
// the high bit set.
func FCGIPairs(kv ...string) []byte {
	var b []byte
	putLen := func(n int) {
		if n < 128 {
			b = append(b, byte(n))
			return
		}
		b = binary.BigEndian.AppendUint32(b, uint32(n)|1<<31)
	}
	for _, p := range pairs(kv) {
		putLen(len(p[0]))
		putLen(len(p[1]))
		b = append(b, p[0]...)
		b = append(b, p[1]...)
	}
	return b
}

// FCGIRequest returns a whole responder request: BEGIN_REQUEST with flags,
// the PARAMS stream of the pairs, and the STDIN stream of body.
func FCGIRequest(id uint16, flags byte, body string, kv ...string) []byte {
	b := FCGIBegin(id, FCGIResponder, flags)
	b = append(b, FCGIStream(FCGIParams, id, FCGIPairs(kv...))...)
	return append(b, FCGIStream(FCGIStdin, id, []byte(body))...)
}
