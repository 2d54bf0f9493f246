package ini

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// flat renders a parsed file as "section|key|raw|line" rows for diffs.
func flat(f *File) []string {
	var rows []string
	for _, s := range append([]*Section{f.Default}, f.Sections...) {
		if s != f.Default || len(s.Keys) > 0 {
			rows = append(rows, "["+s.Name+"]")
		}
		for _, k := range s.Keys {
			rows = append(rows, k.Name+"="+k.Raw)
		}
	}
	return rows
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"basic", "[app:main]\nuse = egg:Paste#static\ndocument_root: /srv\n",
			[]string{"[app:main]", "use=egg:Paste#static", "document_root=/srv"}},
		{"case kept", "[s]\nKey = 1\nkey = 2\n", []string{"[s]", "Key=1", "key=2"}},
		{"whitespace", "  [s]  \n  a   =   b c  \n", []string{"[s]", "a=b c"}},
		{"first delimiter splits", "[s]\na: b = c\nd = e: f\n", []string{"[s]", "a=b = c", "d=e: f"}},
		{"no inline comments", "[s]\na = b ; c # d\n", []string{"[s]", "a=b ; c # d"}},
		{"value starting with hash", "[s]\na = #x\n", []string{"[s]", "a=#x"}},
		{"continuation", "[s]\na = 1\n  2\n\t3\nb = 4\n", []string{"[s]", "a=1\n2\n3", "b=4"}},
		{"blank lines kept inside, dropped at end", "[s]\na = 1\n\n  2\n\n\nb = 3\n", []string{"[s]", "a=1\n\n2", "b=3"}},
		{"comment inside continuation", "[s]\na = 1\n# c\n  ; d\n  2\n", []string{"[s]", "a=1\n2"}},
		{"indented header is continuation", "[s]\na = 1\n  [t]\n", []string{"[s]", "a=1\n[t]"}},
		{"empty first line", "[s]\na =\n  x\n", []string{"[s]", "a=\nx"}},
		{"header name", "[ odd : name # x ]\n[a]b] trailing\n", []string{"[ odd : name # x ]", "[a]b]"}},
		{"default merged", "[DEFAULT]\na = 1\n[s]\n[DEFAULT]\nb = 2\n", []string{"[DEFAULT]", "a=1", "b=2", "[s]"}},
		{"crlf and cr", "[s]\r\na = 1\r  2\r\nb = 3", []string{"[s]", "a=1\n2", "b=3"}},
		{"unicode", "[ü]\nclé = välue\n", []string{"[ü]", "clé=välue"}},
		{"nbsp indent continues", "[s]\na = 1\n\u00a02\n", []string{"[s]", "a=1\n2"}},
		{"empty", "", nil},
		{"only comments", "# hi\n; there\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("t.ini", strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, flat(f)); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseLines(t *testing.T) {
	f, err := Parse("t.ini", strings.NewReader("# c\n[DEFAULT]\nx = 1\n\n[app:main]\na = 1\n  2\nb = 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Sections[0]
	b, ok := s.Get("b")
	if f.Default.Line != 2 || s.Line != 5 || s.Keys[0].Line != 6 || !ok || b.Line != 8 {
		t.Errorf("lines: DEFAULT %d, section %d, a %d, b %+v", f.Default.Line, s.Line, s.Keys[0].Line, b)
	}
	if _, ok := s.Get("B"); ok {
		t.Error(`Get("B") found a key; keys are case-sensitive`)
	}
}

func TestParseErrors(t *testing.T) {
	type want struct {
		line int
		kind error
	}
	tests := []struct {
		name, in string
		want     []want
	}{
		{"key before header", "a = 1\nb = 2\n[s]\n", []want{{1, ErrMissingSectionHeader}}},
		{"bom", "\ufeff[s]\n", []want{{1, ErrMissingSectionHeader}}},
		{"no delimiter", "[s]\na = 1\njunk\nb\n", []want{{3, ErrSyntax}, {4, ErrSyntax}}},
		{"empty name", "[s]\n= 1\n", []want{{2, ErrSyntax}}},
		{"duplicate section", "[s]\n[t]\n[s]\na = 1\n", []want{{3, ErrDuplicateSection}}},
		{"duplicate key", "[s]\na = 1\na: 2\n", []want{{3, ErrDuplicateKey}}},
		{"duplicate key across defaults", "[DEFAULT]\na = 1\n[DEFAULT]\na = 2\n", []want{{4, ErrDuplicateKey}}},
		{"all at once", "x\n[s]\na = 1\na = 2\n[s]\nbad\n", []want{{1, ErrMissingSectionHeader}, {4, ErrDuplicateKey}, {5, ErrDuplicateSection}, {6, ErrSyntax}}},
		{"invalid utf-8", "[s]\na = 1\nb = \xff\n", []want{{3, ErrEncoding}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.ini", strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want errors", tt.in)
			}
			var got []want
			for _, e := range unjoin(err) {
				var se *SyntaxError
				if !errors.As(e, &se) {
					t.Fatalf("error %v is not a *SyntaxError", e)
				}
				if !strings.HasPrefix(se.Error(), "t.ini:") {
					t.Errorf("error %q does not start with the file name", se)
				}
				got = append(got, want{se.Line, se.Err})
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{}), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestLimits(t *testing.T) {
	long := "[s]\na = " + strings.Repeat("x", MaxLineSize) + "\n"
	if _, err := Parse("t.ini", strings.NewReader(long)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("long line: err = %v, want ErrTooLarge", err)
	}
	big := strings.Repeat("# comment line\n", MaxFileSize/15+1)
	if _, err := Parse("t.ini", strings.NewReader(big)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big file: err = %v, want ErrTooLarge", err)
	}
}

func TestInterpolate(t *testing.T) {
	vars := map[string]string{
		"here": "/srv/app", "name": "x", "Name": "Y", "pct": "50%%",
		"nested": "%(here)s/%(name)s", "self": "%(self)s", "bad": "%z",
		"loop1": "%(loop2)s", "loop2": "%(loop1)s",
	}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	tests := []struct {
		raw, want string
		err       error
	}{
		{"plain", "plain", nil},
		{"%(here)s/log", "/srv/app/log", nil},
		{"%(name)s %(Name)s", "x Y", nil},
		{"100%%", "100%", nil},
		{"%(pct)s", "50%", nil},
		{"%(nested)s!", "/srv/app/x!", nil},
		{"%(missing)s", "", ErrMissingReference},
		{"%(NAME)s", "", ErrMissingReference},
		{"50%", "", ErrInterpolation},
		{"%d", "", ErrInterpolation},
		{"%(name)", "", ErrInterpolation},
		{"%()s", "", ErrInterpolation},
		{"%(name)x", "", ErrInterpolation},
		{"%(bad)s", "", ErrInterpolation},
		{"%(self)s", "", ErrInterpolationDepth},
		{"%(loop1)s", "", ErrInterpolationDepth},
	}
	for _, tt := range tests {
		got, err := Interpolate(tt.raw, lookup)
		if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("Interpolate(%q) = %q, %v; want %q, %v", tt.raw, got, err, tt.want, tt.err)
		}
		var ie *InterpolationError
		if err != nil && !errors.As(err, &ie) {
			t.Errorf("Interpolate(%q) error %T is not *InterpolationError", tt.raw, err)
		}
	}
}

// TestInterpolateDepth pins Python's limit: a chain of 10 nested lookups
// works, 11 do not.
func TestInterpolateDepth(t *testing.T) {
	chain := func(n int) func(string) (string, bool) {
		return func(name string) (string, bool) {
			i, err := strconv.Atoi(name)
			if err != nil || i > n {
				return "", false
			}
			if i == n {
				return "end%%", true
			}
			return "%(" + strconv.Itoa(i+1) + ")s", true
		}
	}
	if got, err := Interpolate("%(1)s", chain(9)); err != nil || got != "end%" {
		t.Errorf("9 nested references: %q, %v", got, err)
	}
	if _, err := Interpolate("%(1)s", chain(10)); !errors.Is(err, ErrInterpolationDepth) {
		t.Errorf("10 nested references: err = %v, want ErrInterpolationDepth", err)
	}
}

func TestInterpolateExplosion(t *testing.T) {
	// Every level doubles the output ten times over: 10^10 references.
	lookup := func(name string) (string, bool) {
		if len(name) > 10 {
			return "", true
		}
		return strings.Repeat("%("+name+"x)s", 10), true
	}
	if _, err := Interpolate("%(a)s", lookup); !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrInterpolationDepth) {
		t.Errorf("err = %v, want a limit error", err)
	}
}

func TestValues(t *testing.T) {
	in := `[DEFAULT]
here = /overridden
log = %(here)s/log
shared = default
[app:main]
shared = local
file = %(__file__)s
path = %(log)s/%(shared)s
pct = 100%%
[app:bad]
a = %(nope)s
b = ok
c = %
`
	f, err := Parse("site.ini", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]string{"here": "/srv", "__file__": "/srv/site.ini"}
	got, err := f.Values("app:main", defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"here": "/overridden", "__file__": "/srv/site.ini", "log": "/overridden/log",
		"shared": "local", "file": "/srv/site.ini", "path": "/overridden/log/local", "pct": "100%",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Values(app:main) mismatch (-want +got):\n%s", diff)
	}
	got, err = f.Values("app:bad", defaults)
	errs := unjoin(err)
	if len(errs) != 2 || got["b"] != "ok" {
		t.Fatalf("Values(app:bad) = %v, %v; want b and two errors", got, err)
	}
	var ie *InterpolationError
	if !errors.As(errs[0], &ie) || ie.Key != "a" || ie.Line != 11 || ie.Ref != "nope" || ie.Section != "app:bad" {
		t.Errorf("first error = %#v", ie)
	}
	if want := "site.ini:11: [app:bad] a: "; !strings.HasPrefix(errs[0].Error(), want) {
		t.Errorf("error %q does not start with %q", errs[0], want)
	}
	if _, err := f.Values("app:none", nil); !errors.Is(err, ErrNoSection) {
		t.Errorf("Values(app:none) err = %v, want ErrNoSection", err)
	}
	if got, err := f.Values(DefaultSection, defaults); err != nil || got["log"] != "/overridden/log" || got["shared"] != "default" {
		t.Errorf("Values(DEFAULT) = %v, %v", got, err)
	}
}
