package scgi

// This file implements the SCGI wire format: the header netstring. No HTTP
// here.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/gopaste/gopaste/internal/cgivars"
)

// Var is one SCGI header: a CGI variable, {Name, Value}. It is the pair
// type every gateway protocol shares (uwsgi.Var, fastcgi.Pair), so the
// variables mapped from a request go onto the wire, and those read from
// it into a request, without a copy.
type Var = cgivars.Pair

// DefaultMaxHeaderBytes bounds the header netstring a Server reads when
// Server.MaxHeaderBytes is zero.
const DefaultMaxHeaderBytes = 64 << 10

var (
	// ErrMalformed reports a header block that is not a netstring of
	// NUL-terminated name/value pairs.
	ErrMalformed = errors.New("scgi: malformed header netstring")
	// ErrHeaderTooLarge reports a header netstring longer than the limit;
	// it is returned before anything is allocated for it.
	ErrHeaderTooLarge = errors.New("scgi: header netstring too large")
	// ErrNoContentLength reports headers whose first name is not
	// CONTENT_LENGTH, or whose CONTENT_LENGTH is not decimal digits.
	ErrNoContentLength = errors.New("scgi: CONTENT_LENGTH is not the first header")
	// ErrInvalidVar reports a variable that cannot be encoded: an empty
	// name or a NUL in a name or value.
	ErrInvalidVar = errors.New("scgi: variable name empty or NUL in a variable")
)

// maxLenDigits is the most digits a header length may have: 10 covers
// any limit below 10 GB and keeps the number parse in range.
const maxLenDigits = 10

// ReadHeaders reads one header netstring from r and returns its
// variables in order. It refuses a netstring longer than max bytes
// (DefaultMaxHeaderBytes when max <= 0) before reading it, and one whose
// first variable is not CONTENT_LENGTH. Repeated names are returned as
// they came (nginx before 1.23 repeats a header sent twice). On success r
// is positioned at the first byte of the body.
func ReadHeaders(r *bufio.Reader, max int) ([]Var, error) {
	if max <= 0 {
		max = DefaultMaxHeaderBytes
	}
	n, err := readLength(r)
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrHeaderTooLarge, n, max)
	}
	buf := make([]byte, n+1) // the block and its trailing comma
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("scgi: read headers: %w", err)
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("%w: no comma after %d bytes", ErrMalformed, n)
	}
	return parseVars(buf[:n])
}

// readLength reads "digits:" and returns the number.
func readLength(r *bufio.Reader) (int, error) {
	n, digits := 0, 0
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && digits > 0 {
				err = io.ErrUnexpectedEOF
			}
			return 0, err // io.EOF: the peer closed before sending anything
		}
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && n == 0 {
				return 0, fmt.Errorf("%w: length with a leading zero", ErrMalformed)
			}
			if digits == maxLenDigits {
				return 0, fmt.Errorf("%w: length has more than %d digits", ErrHeaderTooLarge, maxLenDigits)
			}
			n = n*10 + int(c-'0')
			digits++
		case c == ':' && digits > 0:
			return n, nil
		default:
			return 0, fmt.Errorf("%w: byte %q in the length", ErrMalformed, c)
		}
	}
}

// parseVars splits a header block into its NUL-terminated pairs.
func parseVars(b []byte) ([]Var, error) {
	if len(b) == 0 || b[len(b)-1] != 0 {
		return nil, fmt.Errorf("%w: header block does not end with NUL", ErrMalformed)
	}
	if n := bytes.Count(b, []byte{0}); n%2 != 0 {
		return nil, fmt.Errorf("%w: odd number of strings (%d)", ErrMalformed, n)
	}
	vars := make([]Var, 0, bytes.Count(b, []byte{0})/2)
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		name := string(b[:i])
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		value := string(b[:j])
		b = b[j+1:]
		if name == "" {
			return nil, fmt.Errorf("%w: empty name", ErrMalformed)
		}
		vars = append(vars, Var{Name: name, Value: value})
	}
	if vars[0].Name != "CONTENT_LENGTH" || !digitsOnly(vars[0].Value) {
		return nil, fmt.Errorf("%w: first is %q=%q", ErrNoContentLength, vars[0].Name, vars[0].Value)
	}
	return vars, nil
}

func digitsOnly(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AppendHeaders appends the header netstring for vars to dst. CONTENT_LENGTH
// goes first wherever it is in vars (it must be there, as digits), and
// SCGI=1 is added when missing.
func AppendHeaders(dst []byte, vars []Var) ([]byte, error) {
	cl := -1
	hasSCGI := false
	size := 0
	for i, v := range vars {
		if v.Name == "" || bytes.IndexByte([]byte(v.Name), 0) >= 0 || bytes.IndexByte([]byte(v.Value), 0) >= 0 {
			return dst, fmt.Errorf("%w: %q", ErrInvalidVar, v.Name)
		}
		switch v.Name {
		case "CONTENT_LENGTH":
			if cl >= 0 || !digitsOnly(v.Value) {
				return dst, fmt.Errorf("%w: CONTENT_LENGTH %q", ErrNoContentLength, v.Value)
			}
			cl = i
		case "SCGI":
			hasSCGI = true
		}
		size += len(v.Name) + len(v.Value) + 2
	}
	if cl < 0 {
		return dst, fmt.Errorf("%w: none given", ErrNoContentLength)
	}
	if !hasSCGI {
		size += len("SCGI\x001\x00")
	}
	dst = strconv.AppendInt(dst, int64(size), 10)
	dst = append(dst, ':')
	dst = appendVar(dst, vars[cl])
	if !hasSCGI {
		dst = append(dst, "SCGI\x001\x00"...)
	}
	for i, v := range vars {
		if i != cl {
			dst = appendVar(dst, v)
		}
	}
	return append(dst, ','), nil
}

func appendVar(dst []byte, v Var) []byte {
	dst = append(dst, v.Name...)
	dst = append(dst, 0)
	dst = append(dst, v.Value...)
	return append(dst, 0)
}

// WriteHeaders writes the header netstring for vars to w (see
// AppendHeaders).
func WriteHeaders(w io.Writer, vars []Var) error {
	b, err := AppendHeaders(nil, vars)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
