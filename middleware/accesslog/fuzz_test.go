package accesslog

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzLine checks that whatever a client puts in the path, query and
// headers, a common line is one line with no raw control byte or
// unescaped quote, and a JSON line is valid JSON.
func FuzzLine(f *testing.F) {
	f.Add("/a", "x=1", "ua", "ref")
	f.Add("/\"\n", "\x00", "é\xff", "\u2028")
	f.Fuzz(func(t *testing.T, path, query, ua, ref string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path, r.URL.RawQuery = path, query
		r.Header["User-Agent"] = []string{ua}
		r.Header["Referer"] = []string{ref}
		for _, format := range []Format{Combined, JSON} {
			var buf bytes.Buffer
			mw, _ := New(Options{Format: format, Output: &buf, Now: func() time.Time { return t0 }})
			mw(http.HandlerFunc(hello)).ServeHTTP(httptest.NewRecorder(), r)
			line := buf.Bytes()
			if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
				t.Fatalf("%s: not one line: %q", format, line)
			}
			if format == JSON {
				if !json.Valid(line) {
					t.Fatalf("invalid JSON %q", line)
				}
				continue
			}
			quotes := 0
			for i := 0; i < len(line)-1; i++ {
				switch c := line[i]; {
				case c < 0x20 || c >= 0x7f:
					t.Fatalf("raw byte %#x in %q", c, line)
				case c == '\\':
					i++ // the escaped byte
				case c == '"':
					quotes++
				}
			}
			if quotes != 6 {
				t.Fatalf("%d unescaped quotes in %q", quotes, line)
			}
		}
	})
}
