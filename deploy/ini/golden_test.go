package ini

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json with /usr/bin/python3 testdata/dump.py")

// The defaults testdata/dump.py gives Python's parser.
var goldenDefaults = [][2]string{{"here", "/srv/app"}, {"__file__", "/srv/app/config.ini"}}

// golden is what testdata/dump.py prints for one file.
type golden struct {
	Error *struct {
		Kind  string `json:"kind"`
		Lines []int  `json:"lines"`
	} `json:"error,omitempty"`
	Defaults      [][2]string            `json:"defaults"`
	DefaultValues map[string]goldenValue `json:"default_values"`
	Sections      []struct {
		Name   string                 `json:"name"`
		Keys   [][2]string            `json:"keys"`
		Values map[string]goldenValue `json:"values"`
	} `json:"sections"`
}

type goldenValue struct {
	Value *string `json:"value,omitempty"`
	Error string  `json:"error,omitempty"`
}

// pythonErrors maps the exception classes Python raises to our sentinels.
var pythonErrors = map[string]error{
	"ParsingError":                    ErrSyntax,
	"MissingSectionHeaderError":       ErrMissingSectionHeader,
	"DuplicateSectionError":           ErrDuplicateSection,
	"DuplicateOptionError":            ErrDuplicateKey,
	"UnicodeDecodeError":              ErrEncoding,
	"InterpolationMissingOptionError": ErrMissingReference,
	"InterpolationDepthError":         ErrInterpolationDepth,
	"InterpolationSyntaxError":        ErrInterpolation,
}

func corpusFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/corpus/*.ini")
	if err != nil || len(files) < 30 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	return files
}

func goldenPath(ini string) string {
	return filepath.Join("testdata", "golden", strings.TrimSuffix(filepath.Base(ini), ".ini")+".json")
}

// TestGolden checks Parse and Values against what Python's configparser,
// set up as PasteDeploy sets it up, makes of every file in testdata/corpus.
func TestGolden(t *testing.T) {
	if *update {
		regenerate(t)
	}
	for _, path := range corpusFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(goldenPath(path))
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			var want golden
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, src, &want)
		})
	}
}

func checkGolden(t *testing.T, src []byte, want *golden) {
	f, err := Parse("config.ini", bytes.NewReader(src))
	if want.Error != nil {
		if err == nil {
			t.Fatalf("Parse succeeded; Python raises %s at lines %v", want.Error.Kind, want.Error.Lines)
		}
		kind := pythonErrors[want.Error.Kind]
		for _, line := range want.Error.Lines {
			if !hasSyntaxError(err, kind, line) {
				t.Errorf("Python raises %s at line %d; Parse reports:\n%v", want.Error.Kind, line, err)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("Parse: %v; Python accepts the file", err)
	}

	// The raw structure: DEFAULT as Python's _defaults dict orders it, then
	// each section's own keys.
	defaults := map[string]string{}
	var gotDefaults [][2]string
	idx := map[string]int{}
	for _, kv := range goldenDefaults {
		defaults[kv[0]] = kv[1]
		idx[kv[0]] = len(gotDefaults)
		gotDefaults = append(gotDefaults, kv)
	}
	for _, k := range f.Default.Keys {
		if i, ok := idx[k.Name]; ok {
			gotDefaults[i][1] = k.Raw
			continue
		}
		idx[k.Name] = len(gotDefaults)
		gotDefaults = append(gotDefaults, [2]string{k.Name, k.Raw})
	}
	if diff := cmp.Diff(want.Defaults, gotDefaults); diff != "" {
		t.Errorf("DEFAULT keys mismatch (-python +go):\n%s", diff)
	}
	var wantNames, gotNames []string
	for _, s := range want.Sections {
		wantNames = append(wantNames, s.Name)
	}
	for _, s := range f.Sections {
		gotNames = append(gotNames, s.Name)
	}
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Fatalf("sections mismatch (-python +go):\n%s", diff)
	}

	checkValues(t, f, DefaultSection, defaults, want.DefaultValues)
	for i, ws := range want.Sections {
		var keys [][2]string
		for _, k := range f.Sections[i].Keys {
			keys = append(keys, [2]string{k.Name, k.Raw})
		}
		if diff := cmp.Diff(ws.Keys, keys, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("[%s] keys mismatch (-python +go):\n%s", ws.Name, diff)
		}
		checkValues(t, f, ws.Name, defaults, ws.Values)
	}
}

// checkValues compares Values(section) with Python's get for every key.
func checkValues(t *testing.T, f *File, section string, defaults map[string]string, want map[string]goldenValue) {
	t.Helper()
	got, err := f.Values(section, defaults)
	failed := map[string]error{}
	for _, e := range unjoin(err) {
		var ie *InterpolationError
		if !errors.As(e, &ie) {
			t.Fatalf("Values(%s): %v is not an *InterpolationError", section, e)
		}
		failed[ie.Key] = ie.Err
	}
	for key, wv := range want {
		switch {
		case wv.Value != nil:
			if v, ok := got[key]; !ok || v != *wv.Value {
				t.Errorf("[%s] %s = %q (error %v); Python gives %q", section, key, v, failed[key], *wv.Value)
			}
		default:
			if failed[key] != pythonErrors[wv.Error] {
				t.Errorf("[%s] %s: error %v, value %q; Python raises %s", section, key, failed[key], got[key], wv.Error)
			}
		}
	}
	if len(got)+len(failed) != len(want) {
		t.Errorf("[%s]: %d keys and %d errors; Python has %d keys", section, len(got), len(failed), len(want))
	}
}

func hasSyntaxError(err error, kind error, line int) bool {
	for _, e := range unjoin(err) {
		var se *SyntaxError
		if errors.As(e, &se) && se.Err == kind && se.Line == line {
			return true
		}
	}
	return false
}

func regenerate(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("-update needs %s with python3-paste (PasteDeploy): %v", python, err)
	}
	if err := os.MkdirAll(filepath.Join("testdata", "golden"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range corpusFiles(t) {
		cmd := exec.Command(python, filepath.Join("testdata", "dump.py"), path)
		cmd.Env = append(os.Environ(), "PYTHONUTF8=1", "PYTHONDONTWRITEBYTECODE=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", python, path, err, stderr.Bytes())
		}
		if err := os.WriteFile(goldenPath(path), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
