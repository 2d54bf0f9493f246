package cgivars

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/mount"
)

// encodeVars writes pairs as NAME\x01VALUE\x01... for fuzz seeds.
func encodeVars(vars []Pair) string {
	var b strings.Builder
	for _, p := range vars {
		b.WriteString(p.Name + "\x01" + p.Value + "\x01")
	}
	return b.String()
}

func decodeVars(s string) []Pair {
	parts := strings.Split(s, "\x01")
	var vars []Pair
	for i := 0; i+1 < len(parts); i += 2 {
		vars = append(vars, Pair{parts[i], parts[i+1]})
	}
	return vars
}

// FuzzToRequest: any variables give a request or an error, never a panic;
// a request agrees with net/http/cgi.RequestFromMap where both define a
// field, and never takes framing from HTTP_* copies.
func FuzzToRequest(f *testing.F) {
	for _, vars := range [][]Pair{nginxSCGI, apacheSCGI, nginxUWSGI} {
		f.Add(encodeVars(vars))
	}
	f.Add(encodeVars([]Pair{{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "3"}, {"HTTP_TRANSFER_ENCODING", "chunked"}}))
	f.Add(encodeVars([]Pair{{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/a/b"}, {"PATH_INFO", "/c"}, {"REQUEST_URI", "/a%2Fb/c"}}))
	f.Fuzz(func(t *testing.T, s string) {
		vars := decodeVars(s)
		r, err := ToRequest(vars, strings.NewReader("0123456789"))
		if err != nil {
			if !errors.Is(err, ErrInvalidByte) && !errors.Is(err, ErrBadContentLength) && !errors.Is(err, ErrNoMethod) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if r.URL == nil || r.Header == nil || r.Body == nil {
			t.Fatalf("incomplete request %+v", r)
		}
		if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
			t.Fatalf("framing: ContentLength %d, TransferEncoding %v", r.ContentLength, r.TransferEncoding)
		}
		if strings.ContainsAny(r.URL.Path+mount.ScriptName(r.Context()), "\x00") {
			t.Fatalf("NUL in path %q", r.URL.Path)
		}
		agree(t, vars)
	})
}

// FuzzFromRequest: variables built from any request hold no CR, LF or NUL,
// no underscored or Proxy header, and map back to the same request.
func FuzzFromRequest(f *testing.F) {
	f.Add("GET", "/a/b", "x=1", "/a", "X-Test", "value", "10.0.0.1:80")
	f.Add("POST", "/x%2Fy", "", "", "Proxy", "http://evil", "[::1]:1")
	f.Add("GET", "/", "", "", "X-Auth_User", "admin", "")
	f.Add("GET", "/", "", "", "X-Bad", "a\r\nb", "1.2.3.4:5")
	f.Fuzz(func(t *testing.T, method, path, query, prefix, hname, hval, remote string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.URL.Path, r.URL.RawQuery = path, query
		r.RequestURI = ""
		r.RemoteAddr = remote
		r.Header[hname] = []string{hval}
		if prefix != "" && strings.HasPrefix(path, prefix) && !strings.HasSuffix(prefix, "/") {
			r = mount.Shift(r, prefix)
		}
		vars, err := FromRequest(r, Options{NoForwarded: true})
		if err != nil {
			if !errors.Is(err, ErrInvalidByte) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if err := Check(vars); err != nil {
			t.Fatal(err)
		}
		if _, ok := Get(vars, "HTTP_PROXY"); ok {
			t.Fatal("HTTP_PROXY sent")
		}
		want := hname
		if dropHeader(hname) {
			want = ""
		}
		back, err := ToRequest(vars, nil)
		if err != nil {
			return // e.g. a method that is not a token
		}
		if want != "" && back.Header.Get(want) != hval && http.CanonicalHeaderKey(want) != "Cookie" {
			// Only the one header we set can be compared; names that
			// differ only by case fold into one.
			if strings.EqualFold(want, "X-Forwarded-For") || strings.EqualFold(want, "X-Forwarded-Host") || strings.EqualFold(want, "X-Forwarded-Proto") ||
				strings.EqualFold(want, "X-Forwarded-Prefix") {
				return
			}
			t.Fatalf("header %q = %q after round trip, want %q", want, back.Header.Get(want), hval)
		}
	})
}
