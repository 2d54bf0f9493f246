package ini

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits Parse enforces before it allocates for a line or a file.
const (
	MaxFileSize = 16 << 20 // bytes in one file
	MaxLineSize = 1 << 20  // bytes in one line, without its line break
)

// DefaultSection is the name of the section whose keys every other section
// sees, as in Python's configparser.
const DefaultSection = "DEFAULT"

// Sentinels a [*SyntaxError] wraps, one per kind of error Python's
// configparser raises (named after it), so callers and tests can branch
// with errors.Is.
var (
	ErrSyntax               = errors.New("ini: syntax error")                   // ParsingError
	ErrMissingSectionHeader = errors.New("ini: key outside any section")        // MissingSectionHeaderError
	ErrDuplicateSection     = errors.New("ini: duplicate section")              // DuplicateSectionError
	ErrDuplicateKey         = errors.New("ini: duplicate key")                  // DuplicateOptionError
	ErrEncoding             = errors.New("ini: invalid UTF-8")                  // UnicodeDecodeError
	ErrTooLarge             = errors.New("ini: file or line exceeds the limit") // no Python equivalent
)

// SyntaxError is an error in the text of a file. Err is one of the
// sentinels above.
type SyntaxError struct {
	File string
	Line int
	Msg  string
	Err  error
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Unwrap returns the sentinel naming the kind of error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// File is a parsed ini file.
type File struct {
	Name string // as given to Parse
	// Default holds the [DEFAULT] keys; it is never nil. Several [DEFAULT]
	// headers merge into it, as in Python; its Line is the first header's
	// line, or 0 when the file has none.
	Default  *Section
	Sections []*Section // in file order, DEFAULT excluded
}

// Section is one [header] and its keys.
type Section struct {
	Name string // as written between the brackets: "app:main", " spaced "
	Line int    // line of the header
	Keys []*Key // in file order
}

// Key is one "name = value" entry.
type Key struct {
	Name string // case preserved, surrounding whitespace removed
	// Raw is the value before interpolation: each line stripped of
	// surrounding whitespace, continuation lines (and the blank lines
	// between them) joined with "\n", trailing blank lines removed.
	Raw  string
	Line int // line of the name
}

// Get returns the key called name (case-sensitive).
func (s *Section) Get(name string) (*Key, bool) {
	for _, k := range s.Keys {
		if k.Name == name {
			return k, true
		}
	}
	return nil, false
}

// Section returns the section named name (not DEFAULT; use f.Default).
func (f *File) Section(name string) (*Section, bool) {
	for _, s := range f.Sections {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// Parse reads a whole file with Python configparser's syntax as PasteDeploy
// configures it (see the package comment). filename is used in errors only.
// It reports every syntax error it finds, joined with errors.Join; each is
// a *SyntaxError. An I/O error from r is returned as is.
func Parse(filename string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("ini: read %s: %w", filename, err)
	}
	if len(data) > MaxFileSize {
		return nil, &SyntaxError{File: filename, Line: 0, Err: ErrTooLarge,
			Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	p := parser{file: &File{Name: filename, Default: &Section{Name: DefaultSection}}}
	if bad := invalidUTF8Line(data); bad > 0 {
		return nil, p.errorf(bad, ErrEncoding, "invalid UTF-8")
	}
	p.seenSect = map[string]bool{}
	p.seenKey = map[[2]string]bool{}
	text, more := string(data), true
	for n := 1; more; n++ {
		var line string
		line, text, more = cutLine(text)
		if len(line) > MaxLineSize {
			p.errs = append(p.errs, p.errorf(n, ErrTooLarge, "line is longer than %d bytes", MaxLineSize))
			break
		}
		p.line(n, line)
	}
	p.finish()
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return p.file, nil
}

// cutLine splits off the first line as Python's universal newlines do: a
// line ends at "\r\n", "\r" or "\n". more is false after the last line.
func cutLine(s string) (line, rest string, more bool) {
	i := strings.IndexAny(s, "\r\n")
	if i < 0 {
		return s, "", false
	}
	j := i + 1
	if s[i] == '\r' && j < len(s) && s[j] == '\n' {
		j++
	}
	return s[:i], s[j:], j < len(s)
}

// invalidUTF8Line returns the 1-based line holding the first byte that is
// not UTF-8, or 0 when all of b is valid.
func invalidUTF8Line(b []byte) int {
	if utf8.Valid(b) {
		return 0
	}
	line := 1
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return line
		}
		if b[i] == '\n' || (b[i] == '\r' && (i+1 == len(b) || b[i+1] != '\n')) {
			line++
		}
		i += size
	}
	return line
}

type parser struct {
	file *File
	errs []error

	sect     *Section // current section; nil before the first header
	lines    [][]string
	keyLines *[]string // lines of the value being read; nil if none
	indent   int       // indentation, in characters, of the last key or header line
	orphan   bool      // MissingSectionHeader already reported
	seenSect map[string]bool
	seenKey  map[[2]string]bool

	pending []pendingKey // keys whose Raw is set by finish
}

type pendingKey struct {
	k     *Key
	lines *[]string
}

func (p *parser) errorf(line int, kind error, format string, args ...any) *SyntaxError {
	return &SyntaxError{File: p.file.Name, Line: line, Err: kind, Msg: fmt.Sprintf(format, args...)}
}

// line handles one line the way configparser.RawConfigParser._read does.
func (p *parser) line(n int, line string) {
	value := pyStrip(line)
	if value == "" {
		// Blank lines belong to the value being read (empty_lines_in_values).
		if p.sect != nil && p.keyLines != nil {
			*p.keyLines = append(*p.keyLines, "")
		}
		return
	}
	if value[0] == '#' || value[0] == ';' {
		return // full-line comment, indented or not; it does not end a value
	}
	indent := indentOf(line)
	if p.sect != nil && p.keyLines != nil && indent > p.indent {
		*p.keyLines = append(*p.keyLines, value)
		return
	}
	p.indent = indent
	if name, ok := sectionHeader(value); ok {
		p.header(n, name)
		return
	}
	if p.sect == nil {
		if !p.orphan {
			p.orphan = true
			msg := fmt.Sprintf("%q is outside any section; the file must start with a [section] header", value)
			if strings.HasPrefix(value, "\ufeff") {
				msg = "the file starts with a UTF-8 byte order mark, which Python's configparser does not accept"
			}
			p.errs = append(p.errs, p.errorf(n, ErrMissingSectionHeader, "%s", msg))
		}
		return
	}
	i := strings.IndexAny(value, "=:")
	if i < 0 {
		p.errs = append(p.errs, p.errorf(n, ErrSyntax, "[%s]: %q has no \"=\" or \":\"", p.sect.Name, value))
		return // like Python, the previous key still takes continuation lines
	}
	name, val := pyStrip(value[:i]), pyStrip(value[i+1:])
	if name == "" {
		p.errs = append(p.errs, p.errorf(n, ErrSyntax, "[%s]: key without a name before %q", p.sect.Name, value[i:i+1]))
	}
	id := [2]string{p.sect.Name, name}
	if p.seenKey[id] {
		p.errs = append(p.errs, p.errorf(n, ErrDuplicateKey, "[%s]: key %q is set twice in this section", p.sect.Name, name))
		p.keyLines = new([]string) // swallow its continuation lines
		return
	}
	p.seenKey[id] = true
	if name == "" {
		p.keyLines = nil // Python's empty option name takes no continuation
		return
	}
	k := &Key{Name: name, Line: n}
	lines := []string{val}
	p.sect.Keys = append(p.sect.Keys, k)
	p.keyLines = &lines
	p.pending = append(p.pending, pendingKey{k, &lines})
}

func (p *parser) header(n int, name string) {
	p.keyLines = nil
	switch {
	case name == DefaultSection:
		if p.file.Default.Line == 0 {
			p.file.Default.Line = n
		}
		p.sect = p.file.Default
	case p.seenSect[name]:
		p.errs = append(p.errs, p.errorf(n, ErrDuplicateSection, "section [%s] appears twice", name))
		// Keep checking the syntax of its body without reporting its keys as duplicates.
		p.sect = &Section{Name: name, Line: n}
		p.forgetKeys(name)
	default:
		p.seenSect[name] = true
		p.sect = &Section{Name: name, Line: n}
		p.file.Sections = append(p.file.Sections, p.sect)
	}
}

// forgetKeys forgets the keys seen in section name, so that the body of a
// duplicate section is not reported key by key as well.
func (p *parser) forgetKeys(name string) {
	for id := range p.seenKey {
		if id[0] == name {
			delete(p.seenKey, id)
		}
	}
}

// finish joins the lines of each value as _join_multiline_values does.
func (p *parser) finish() {
	for _, pk := range p.pending {
		lines := *pk.lines
		for len(lines) > 1 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		pk.k.Raw = strings.Join(lines, "\n")
	}
}

// sectionHeader matches SECTCRE, `\[(?P<header>.+)\]`, against a stripped
// line: the name runs from after the first "[" to the last "]".
func sectionHeader(value string) (string, bool) {
	if value[0] != '[' {
		return "", false
	}
	j := strings.LastIndexByte(value, ']')
	if j < 2 {
		return "", false
	}
	return value[1:j], true
}

// pyIsSpace reports whether Python's str.isspace (and re's \s) holds for r:
// Go's unicode.IsSpace plus the four ASCII separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// indentOf counts the characters (not bytes) before the first non-space,
// as configparser's NONSPACECRE.search(line).start() does.
func indentOf(line string) int {
	n := 0
	for _, r := range line {
		if !pyIsSpace(r) {
			return n
		}
		n++
	}
	return n
}
