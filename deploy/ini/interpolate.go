package ini

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MaxInterpolationDepth is how deep references may nest, as in Python's
// configparser.MAX_INTERPOLATION_DEPTH.
const MaxInterpolationDepth = 10

// Limits that keep a hostile file from making interpolation explode (every
// level may repeat the reference of the level below). Python has none; no
// real config comes near them.
const (
	maxValueSize = MaxFileSize // bytes in one interpolated value
	maxWork      = 1 << 26     // bytes copied plus references followed, per call
)

// Sentinels an [*InterpolationError] wraps, named after the Python
// exceptions they stand for.
var (
	ErrMissingReference   = errors.New("ini: reference to a missing key")      // InterpolationMissingOptionError
	ErrInterpolationDepth = errors.New("ini: interpolation nested too deeply") // InterpolationDepthError
	ErrInterpolation      = errors.New("ini: bad interpolation syntax")        // InterpolationSyntaxError
	ErrNoSection          = errors.New("ini: no such section")                 // NoSectionError
)

// InterpolationError is a value that cannot be interpolated. [Interpolate]
// sets Err, Ref and Msg; [File.Values] also sets File, Line, Section and
// Key, and other callers of Interpolate may fill them (errors.As) before
// passing the error on.
type InterpolationError struct {
	File    string
	Line    int    // of the key; 0 for a default the caller supplied
	Section string // as written: "app:main", "DEFAULT"
	Key     string
	Ref     string // the missing name, for ErrMissingReference
	Msg     string
	Err     error // one of the sentinels above
}

func (e *InterpolationError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Section != "" {
		fmt.Fprintf(&b, "[%s] ", e.Section)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel naming the kind of error.
func (e *InterpolationError) Unwrap() error { return e.Err }

// Interpolate expands raw the way Python's configparser.BasicInterpolation
// does: "%%" is "%", "%(name)s" is the value lookup returns for name
// (case-sensitive), itself interpolated when it holds a "%", up to
// MaxInterpolationDepth levels; any other "%" is an error. Errors are
// *InterpolationError.
func Interpolate(raw string, lookup func(name string) (string, bool)) (string, error) {
	in := interpolator{lookup: lookup, work: maxWork}
	return in.value(raw)
}

type interpolator struct {
	lookup func(string) (string, bool)
	out    strings.Builder
	work   int // budget left, shared by every value of one Values call
}

func (in *interpolator) value(raw string) (string, error) {
	if !strings.Contains(raw, "%") {
		return raw, nil
	}
	in.out.Reset()
	if err := in.some(raw, 1); err != nil {
		return "", err
	}
	return in.out.String(), nil
}

// some is BasicInterpolation._interpolate_some.
func (in *interpolator) some(rest string, depth int) error {
	if depth > MaxInterpolationDepth {
		return &InterpolationError{Err: ErrInterpolationDepth,
			Msg: fmt.Sprintf("references nest deeper than %d levels (does a key refer to itself?)", MaxInterpolationDepth)}
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			return in.write(rest)
		}
		if err := in.write(rest[:p]); err != nil {
			return err
		}
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			if err := in.write("%"); err != nil {
				return err
			}
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			// _KEYCRE is `%\(([^)]+)\)s`: the name ends at the first ")".
			end := strings.IndexByte(rest, ')')
			if end <= 2 || end+1 >= len(rest) || rest[end+1] != 's' {
				return &InterpolationError{Err: ErrInterpolation,
					Msg: fmt.Sprintf("bad reference %s: write %%(name)s, or %%%% for a literal %%", excerpt(rest))}
			}
			name := rest[2:end]
			rest = rest[end+2:]
			in.work--
			v, ok := in.lookup(name)
			if !ok {
				return &InterpolationError{Err: ErrMissingReference, Ref: name,
					Msg: fmt.Sprintf("%%(%s)s refers to a key that is set neither in this section nor in [DEFAULT]", name)}
			}
			var err error
			if strings.Contains(v, "%") {
				err = in.some(v, depth+1)
			} else {
				err = in.write(v)
			}
			if err != nil {
				return err
			}
		default:
			return &InterpolationError{Err: ErrInterpolation,
				Msg: fmt.Sprintf("%%%% or %%(name)s expected at %s (write %%%% for a literal %%)", excerpt(rest))}
		}
	}
	return nil
}

func (in *interpolator) write(s string) error {
	in.work -= len(s)
	if in.work < 0 || in.out.Len()+len(s) > maxValueSize {
		return &InterpolationError{Err: ErrTooLarge,
			Msg: "interpolated value grows too large (references repeated at every level?)"}
	}
	in.out.WriteString(s)
	return nil
}

func excerpt(s string) string {
	const n = 24
	if len(s) > n {
		s = s[:n] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// Values returns what Python's ConfigParser.items(section) gives: the keys
// of defaults (what the caller passes, such as "here" and "__file__"),
// overridden by those of [DEFAULT], overridden by those of the section, all
// interpolated against that same set. section may be DEFAULT. Every key
// that fails is reported (errors.Join of *InterpolationError); the map then
// holds the keys that did not fail. An unknown section is ErrNoSection.
func (f *File) Values(section string, defaults map[string]string) (map[string]string, error) {
	type entry struct {
		raw  string
		line int
	}
	var sect *Section
	if section != DefaultSection {
		s, ok := f.Section(section)
		if !ok {
			return nil, fmt.Errorf("%s: [%s]: %w", f.Name, section, ErrNoSection)
		}
		sect = s
	}
	var order []string
	all := map[string]entry{}
	set := func(name, raw string, line int) {
		if _, ok := all[name]; !ok {
			order = append(order, name)
		}
		all[name] = entry{raw, line}
	}
	for _, name := range slices.Sorted(maps.Keys(defaults)) {
		set(name, defaults[name], 0)
	}
	for _, k := range f.Default.Keys {
		set(k.Name, k.Raw, k.Line)
	}
	if sect != nil {
		for _, k := range sect.Keys {
			set(k.Name, k.Raw, k.Line)
		}
	}
	in := interpolator{work: maxWork, lookup: func(name string) (string, bool) {
		e, ok := all[name]
		return e.raw, ok
	}}
	out := make(map[string]string, len(all))
	var errs []error
	for _, name := range order {
		e := all[name]
		v, err := in.value(e.raw)
		if err != nil {
			var ie *InterpolationError
			if errors.As(err, &ie) {
				ie.File, ie.Line, ie.Section, ie.Key = f.Name, e.line, section, name
			}
			errs = append(errs, err)
			if in.work < 0 {
				break // the budget is spent: the rest would fail the same way
			}
			continue
		}
		out[name] = v
	}
	return out, errors.Join(errs...)
}
