package ini

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics, that its errors are
// *SyntaxErrors on a line of the input, that Values never panics, and that
// what Write makes of a parsed file parses back to the same file. Seeds:
// testdata/fuzz/FuzzParse, one per file of testdata/corpus.
func FuzzParse(f *testing.F) {
	f.Add([]byte("[s]\na = 1\n  2\n\n  3\n"))
	f.Add([]byte("[DEFAULT]\nx = %(here)s\n[s]\ny = %(x)s%%\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("f.ini", bytes.NewReader(data))
		if err != nil {
			lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
			for _, e := range unjoin(err) {
				var se *SyntaxError
				if !errors.As(e, &se) {
					t.Fatalf("error %v is %T, want *SyntaxError", e, e)
				}
				if se.Line < 1 || se.Line > lines {
					t.Fatalf("error on line %d of a %d-line input: %v", se.Line, lines, se)
				}
			}
			return
		}
		defaults := map[string]string{"here": "/h", "__file__": "/h/f.ini"}
		for _, s := range append([]*Section{file.Default}, file.Sections...) {
			v, err := file.Values(s.Name, defaults)
			for _, e := range unjoin(err) {
				var ie *InterpolationError
				if !errors.As(e, &ie) || ie.Key == "" {
					t.Fatalf("Values(%q) error %v (%T) names no key", s.Name, e, e)
				}
			}
			if err == nil && len(v) < len(s.Keys) {
				t.Fatalf("Values(%q) has %d keys, the section %d", s.Name, len(v), len(s.Keys))
			}
		}

		var out bytes.Buffer
		if err := Write(&out, file); err != nil {
			t.Fatalf("Write of a parsed file: %v", err)
		}
		again, err := Parse("f.ini", &out)
		if err != nil {
			t.Fatalf("Parse of written file: %v\n%s", err, out.String())
		}
		if diff := cmp.Diff(flat(file), flat(again)); diff != "" {
			t.Fatalf("round trip mismatch (-parsed +rewritten):\n%s\nwritten:\n%s", diff, out.String())
		}
	})
}

func TestWrite(t *testing.T) {
	in := "[app:main]\nb = 2\n[DEFAULT]\nx = 1\n  y\n\n  z\n\nempty =\n# c\n[ odd ]\na =\n  x\n"
	file, err := Parse("t.ini", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Write(&out, file); err != nil {
		t.Fatal(err)
	}
	want := "[DEFAULT]\nx = 1\n\ty\n\n\tz\nempty =\n\n[app:main]\nb = 2\n\n[ odd ]\na =\n\tx\n"
	if out.String() != want {
		t.Errorf("Write =\n%q\nwant\n%q", out.String(), want)
	}

	bad := []*File{
		{Default: &Section{}, Sections: []*Section{{Name: "s", Keys: []*Key{{Name: "a=b", Raw: "1"}}}}},
		{Default: &Section{}, Sections: []*Section{{Name: "s", Keys: []*Key{{Name: "#a", Raw: "1"}}}}},
		{Default: &Section{}, Sections: []*Section{{Name: "s", Keys: []*Key{{Name: "a", Raw: "1\n# c"}}}}},
		{Default: &Section{}, Sections: []*Section{{Name: "s", Keys: []*Key{{Name: "a", Raw: " 1"}}}}},
		{Default: &Section{}, Sections: []*Section{{Name: "s", Keys: []*Key{{Name: "a", Raw: "1\n"}}}}},
		{Default: &Section{}, Sections: []*Section{{Name: "s", Keys: []*Key{{Name: "[a", Raw: "]"}}}}},
		{Default: &Section{}, Sections: []*Section{{Name: "a\nb"}}},
		{Default: &Section{}, Sections: []*Section{{Name: DefaultSection}}},
	}
	for i, f := range bad {
		if err := Write(&strings.Builder{}, f); err == nil {
			t.Errorf("Write(bad[%d]) succeeded", i)
		}
	}
}
