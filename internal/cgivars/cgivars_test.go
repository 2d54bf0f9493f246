package cgivars

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopaste/gopaste/mount"
)

// Variables as captured from nginx 1.22 (stock scgi_params), Apache 2.4
// mod_proxy_scgi and nginx uwsgi_params on Debian 12.
var (
	nginxSCGI = []Pair{
		{"CONTENT_LENGTH", "0"}, {"SCGI", "1"},
		{"QUERY_STRING", "a=1&b=%20"}, {"REQUEST_METHOD", "GET"},
		{"CONTENT_TYPE", ""}, {"REQUEST_URI", "/app/x%2Fy/z?a=1&b=%20"},
		{"DOCUMENT_URI", "/app/x/y/z"}, {"DOCUMENT_ROOT", "/usr/share/nginx/html"},
		{"SERVER_PROTOCOL", "HTTP/1.1"}, {"REQUEST_SCHEME", "http"},
		{"REMOTE_ADDR", "127.0.0.1"}, {"REMOTE_PORT", "51234"},
		{"SERVER_PORT", "8080"}, {"SERVER_NAME", ""},
		{"HTTP_HOST", "example.com"}, {"HTTP_USER_AGENT", "curl/7.88"},
		{"HTTP_ACCEPT", "*/*"},
	}
	apacheSCGI = []Pair{
		{"CONTENT_LENGTH", "5"}, {"SCGI", "1"},
		{"HTTP_HOST", "127.0.0.1:18082"}, {"HTTP_CONTENT_TYPE", "text/plain"},
		{"PATH", "/usr/bin:/bin"}, {"SERVER_NAME", "127.0.0.1"},
		{"SERVER_PORT", "18082"}, {"REMOTE_ADDR", "127.0.0.1"},
		{"REQUEST_SCHEME", "http"}, {"SCRIPT_FILENAME", "proxy:scgi://127.0.0.1:4000/scgi/x"},
		{"REMOTE_PORT", "40000"}, {"SERVER_PROTOCOL", "HTTP/1.1"},
		{"REQUEST_METHOD", "POST"}, {"QUERY_STRING", ""},
		{"REQUEST_URI", "/scgi/x"}, {"SCRIPT_NAME", "/scgi/x"},
		{"CONTENT_TYPE", "text/plain"},
	}
	nginxUWSGI = []Pair{
		{"QUERY_STRING", ""}, {"REQUEST_METHOD", "GET"}, {"CONTENT_TYPE", ""},
		{"CONTENT_LENGTH", ""}, {"REQUEST_URI", "/u/p"}, {"PATH_INFO", "/u/p"},
		{"DOCUMENT_ROOT", "/x"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"HTTPS", "on"},
		{"REMOTE_ADDR", "::1"}, {"REMOTE_PORT", "9"}, {"SERVER_PORT", "443"},
		{"SERVER_NAME", "site"}, {"HTTP_HOST", "site"},
	}
)

type shape struct {
	Method, Path, RawPath, Query, RequestURI, Host, RemoteAddr, Script string
	ContentLength                                                      int64
	TLS                                                                bool
	Header                                                             http.Header
}

func shapeOf(r *http.Request) shape {
	return shape{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Query: r.URL.RawQuery,
		RequestURI: r.RequestURI, Host: r.Host, RemoteAddr: r.RemoteAddr,
		Script: mount.ScriptName(r.Context()), ContentLength: r.ContentLength,
		TLS: r.TLS != nil, Header: r.Header,
	}
}

func TestToRequest(t *testing.T) {
	tests := []struct {
		name string
		vars []Pair
		want shape
	}{
		{"nginx scgi derives PATH_INFO from REQUEST_URI", nginxSCGI, shape{
			Method: "GET", Path: "/app/x/y/z", RawPath: "/app/x%2Fy/z", Query: "a=1&b=%20",
			RequestURI: "/app/x%2Fy/z?a=1&b=%20", Host: "example.com:8080", RemoteAddr: "127.0.0.1:51234",
			Header: http.Header{"User-Agent": {"curl/7.88"}, "Accept": {"*/*"}},
		}},
		{"apache scgi whole path in SCRIPT_NAME", apacheSCGI, shape{
			Method: "POST", Path: "/scgi/x", RequestURI: "/scgi/x", Host: "127.0.0.1:18082",
			RemoteAddr: "127.0.0.1:40000", ContentLength: 5,
			Header: http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"5"}},
		}},
		{"nginx uwsgi PATH_INFO, empty CONTENT_LENGTH, HTTPS", nginxUWSGI, shape{
			Method: "GET", Path: "/u/p", RequestURI: "/u/p", Host: "site",
			RemoteAddr: "[::1]:9", TLS: true, Header: http.Header{},
		}},
		{"split SCRIPT_NAME and PATH_INFO", []Pair{
			{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/mnt"}, {"PATH_INFO", "/a b"},
			{"QUERY_STRING", "q"}, {"REQUEST_URI", "/mnt/a%20b?q"}, {"SERVER_NAME", "h"}, {"SERVER_PORT", "81"},
		}, shape{
			Method: "GET", Path: "/a b", Query: "q", RequestURI: "/mnt/a%20b?q", Host: "h:81",
			Script: "/mnt", Header: http.Header{},
		}},
		{"no path at all", []Pair{{"REQUEST_METHOD", "GET"}}, shape{
			Method: "GET", Path: "/", RequestURI: "/", Header: http.Header{},
		}},
		{"framing only from CONTENT_LENGTH", []Pair{
			{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "3"},
			{"HTTP_CONTENT_LENGTH", "100"}, {"HTTP_TRANSFER_ENCODING", "chunked"},
		}, shape{
			Method: "POST", Path: "/", RequestURI: "/", ContentLength: 3,
			Header: http.Header{"Content-Length": {"3"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ToRequest(tt.vars, strings.NewReader("hello"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, shapeOf(r)); diff != "" {
				t.Errorf("ToRequest mismatch (-want +got):\n%s", diff)
			}
			if got := Vars(r.Context()); len(got) != len(tt.vars) {
				t.Errorf("Vars = %d pairs, want %d", len(got), len(tt.vars))
			}
		})
	}
}

func TestToRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		vars []Pair
		want error
	}{
		{"no method", []Pair{{"CONTENT_LENGTH", "0"}}, ErrNoMethod},
		{"bad method", []Pair{{"REQUEST_METHOD", "G T"}}, ErrNoMethod},
		{"bad length", []Pair{{"REQUEST_METHOD", "GET"}, {"CONTENT_LENGTH", "x"}}, ErrBadContentLength},
		{"negative length", []Pair{{"REQUEST_METHOD", "GET"}, {"CONTENT_LENGTH", "-1"}}, ErrBadContentLength},
		{"two lengths", []Pair{{"REQUEST_METHOD", "GET"}, {"CONTENT_LENGTH", "1"}, {"CONTENT_LENGTH", "2"}}, ErrBadContentLength},
		{"LF in header", []Pair{{"REQUEST_METHOD", "GET"}, {"HTTP_X", "a\nb"}}, ErrInvalidByte},
		{"CR in name", []Pair{{"REQUEST_METHOD", "GET"}, {"HTTP_\rX", "a"}}, ErrInvalidByte},
		{"NUL in path", []Pair{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/a\x00.php"}}, ErrInvalidByte},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ToRequest(tt.vars, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("ToRequest err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestToRequestBody(t *testing.T) {
	vars := []Pair{{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "4"}}
	r, err := ToRequest(vars, strings.NewReader("abcdEXTRA"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r.Body)
	if string(b) != "abcd" || err != nil {
		t.Errorf("body = %q, %v; want exactly CONTENT_LENGTH bytes", b, err)
	}

	r, _ = ToRequest(vars, strings.NewReader("ab"))
	if _, err := io.ReadAll(r.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short body err = %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestToRequestAgreesWithNetHTTPCGI checks the fields both mappings define.
func TestToRequestAgreesWithNetHTTPCGI(t *testing.T) {
	for _, vars := range [][]Pair{nginxSCGI, apacheSCGI, nginxUWSGI} {
		agree(t, vars)
	}
}

func agree(t *testing.T, vars []Pair) {
	t.Helper()
	m := map[string]string{}
	count := map[string]int{}
	for _, p := range vars {
		m[p.Name] = p.Value
		count[p.Name]++
	}
	ref, refErr := cgi.RequestFromMap(m)
	got, err := ToRequest(vars, nil)
	if refErr != nil || err != nil {
		return
	}
	if got.Method != ref.Method {
		t.Errorf("Method = %q, net/http/cgi %q", got.Method, ref.Method)
	}
	if ref.URL.RawQuery != got.URL.RawQuery && m["QUERY_STRING"] == "" && strings.HasPrefix(m["REQUEST_URI"], "/") {
		t.Errorf("RawQuery = %q, net/http/cgi %q", got.URL.RawQuery, ref.URL.RawQuery)
	}
	// net/http/cgi ignores SERVER_PORT; ToRequest adds it to a Host
	// without a port (issue 13).
	if got.Host != ref.Host && m["HTTP_HOST"] != "" && hostOnly(got.Host) != strings.Trim(ref.Host, "[]") {
		t.Errorf("Host = %q, net/http/cgi %q", got.Host, ref.Host)
	}
	if ref.ContentLength > 0 && got.ContentLength != ref.ContentLength {
		t.Errorf("ContentLength = %d, net/http/cgi %d", got.ContentLength, ref.ContentLength)
	}
	if (got.TLS != nil) != (ref.TLS != nil) && m["REQUEST_SCHEME"] == "" {
		t.Errorf("TLS = %v, net/http/cgi %v", got.TLS != nil, ref.TLS != nil)
	}
	if m["REMOTE_ADDR"] != "" && got.RemoteAddr != ref.RemoteAddr {
		t.Errorf("RemoteAddr = %q, net/http/cgi %q", got.RemoteAddr, ref.RemoteAddr)
	}
	for k, v := range ref.Header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Content-Type":
			continue // framing: ours comes from CONTENT_LENGTH only
		}
		if !ValidToken(k) || count[HeaderVar(k)] > 1 {
			continue // a repeated variable: the map kept one copy
		}
		if len(v) == 1 && got.Header.Get(k) != v[0] {
			t.Errorf("Header[%q] = %q, net/http/cgi %q", k, got.Header.Get(k), v[0])
		}
	}
}

func TestFromRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "http://example.com:8080/blog/2024/a%2Fb?x=1", strings.NewReader("body"))
	r.RemoteAddr = "10.0.0.7:5555"
	r.Header.Set("Content-Type", "text/plain")
	r.Header.Set("X-Forwarded-For", "192.0.2.1")
	r.Header.Add("Cookie", "a=1")
	r.Header.Add("Cookie", "b=2")
	r.Header.Set("Accept", "*/*")
	r = mount.Shift(r, "/blog")

	vars, err := FromRequest(r, Options{DocumentRoot: "/srv"})
	if err != nil {
		t.Fatal(err)
	}
	if vars[0].Name != "CONTENT_LENGTH" || vars[0].Value != "4" {
		t.Errorf("first var = %v, want CONTENT_LENGTH=4", vars[0])
	}
	want := map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/blog", "PATH_INFO": "/2024/a/b",
		"REQUEST_URI": "/blog/2024/a%2Fb?x=1", "QUERY_STRING": "x=1",
		"REMOTE_ADDR": "10.0.0.7", "REMOTE_PORT": "5555", "SERVER_NAME": "example.com",
		"SERVER_PORT": "8080", "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "text/plain",
		"HTTP_HOST": "example.com:8080", "HTTP_ACCEPT": "*/*", "HTTP_COOKIE": "a=1; b=2",
		"HTTP_X_FORWARDED_FOR": "192.0.2.1, 10.0.0.7", "HTTP_X_FORWARDED_PROTO": "http",
		"HTTP_X_FORWARDED_HOST": "example.com:8080", "DOCUMENT_ROOT": "/srv",
	}
	for k, v := range want {
		if got, ok := Get(vars, k); !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	for _, k := range []string{"HTTPS", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if v, ok := Get(vars, k); ok {
			t.Errorf("%s = %q, want unset", k, v)
		}
	}

	t.Run("script_name override", func(t *testing.T) {
		vars, _ := FromRequest(r, Options{ScriptName: "/"})
		if s, _ := Get(vars, "SCRIPT_NAME"); s != "" {
			t.Errorf("SCRIPT_NAME = %q, want empty", s)
		}
		vars, _ = FromRequest(r, Options{ScriptName: "/app"})
		if s, _ := Get(vars, "SCRIPT_NAME"); s != "/app" {
			t.Errorf("SCRIPT_NAME = %q, want /app", s)
		}
	})
	t.Run("extra replaces", func(t *testing.T) {
		vars, _ := FromRequest(r, Options{Extra: []Pair{{"SERVER_NAME", "x"}, {"APP_ENV", "prod"}}})
		if s, _ := Get(vars, "SERVER_NAME"); s != "x" {
			t.Errorf("SERVER_NAME = %q, want x", s)
		}
		if s, _ := Get(vars, "APP_ENV"); s != "prod" {
			t.Errorf("APP_ENV = %q, want prod", s)
		}
	})
	t.Run("https", func(t *testing.T) {
		r := httptest.NewRequest("GET", "https://s/", nil)
		vars, _ := FromRequest(r, Options{})
		if v, _ := Get(vars, "HTTPS"); v != "on" {
			t.Errorf("HTTPS = %q, want on", v)
		}
		if v, _ := Get(vars, "SERVER_PORT"); v != "443" {
			t.Errorf("SERVER_PORT = %q, want 443", v)
		}
	})
}

// TestDropProxyHeader_httpoxy pins CVE-2016-5385 and friends: a client's
// Proxy header must not become HTTP_PROXY in a backend's environment.
func TestDropProxyHeader_httpoxy(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Proxy", "http://evil.example:8080")
	vars, err := FromRequest(r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := Get(vars, "HTTP_PROXY"); ok {
		t.Errorf("HTTP_PROXY = %q, want dropped", v)
	}
}

// TestDropUnderscoreHeader_spoofing: "X-Auth_User" and "X-Auth-User" both
// map to HTTP_X_AUTH_USER; only the dashed one may reach the backend.
func TestDropUnderscoreHeader_spoofing(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["X-Auth_user"] = []string{"admin"}
	vars, _ := FromRequest(r, Options{})
	if v, ok := Get(vars, "HTTP_X_AUTH_USER"); ok {
		t.Errorf("HTTP_X_AUTH_USER = %q from an underscored name, want dropped", v)
	}
	r.Header.Set("X-Auth-User", "bob")
	vars, _ = FromRequest(r, Options{})
	if v, _ := Get(vars, "HTTP_X_AUTH_USER"); v != "bob" {
		t.Errorf("HTTP_X_AUTH_USER = %q, want bob", v)
	}
}

// TestRejectCRLFNUL_headerInjection: a value that would split a CGI
// variable or header is refused, never passed on or truncated.
func TestRejectCRLFNUL_headerInjection(t *testing.T) {
	for _, bad := range []string{"a\r\nX-Evil: 1", "a\nb", "a\x00b"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Test"] = []string{bad}
		if _, err := FromRequest(r, Options{}); !errors.Is(err, ErrInvalidByte) {
			t.Errorf("FromRequest with %q: err = %v, want ErrInvalidByte", bad, err)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.URL.Path = "/x.php\x00.jpg"
	if _, err := FromRequest(r, Options{}); !errors.Is(err, ErrInvalidByte) {
		t.Errorf("NUL in path: err = %v, want ErrInvalidByte", err)
	}
}

// TestNoFramingFromHTTPCopies_smuggling: nginx forwards the client's
// Transfer-Encoding as HTTP_TRANSFER_ENCODING after de-chunking; taking
// framing from it would desynchronise the stream.
func TestNoFramingFromHTTPCopies_smuggling(t *testing.T) {
	r, err := ToRequest([]Pair{{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "2"},
		{"HTTP_TRANSFER_ENCODING", "chunked"}, {"HTTP_CONTENT_LENGTH", "999"}}, strings.NewReader("okMORE"))
	if err != nil {
		t.Fatal(err)
	}
	if r.ContentLength != 2 || r.Header.Get("Transfer-Encoding") != "" || len(r.TransferEncoding) != 0 {
		t.Errorf("ContentLength %d, TE %q: want 2 and none", r.ContentLength, r.Header.Get("Transfer-Encoding"))
	}
	r2 := httptest.NewRequest("POST", "/", strings.NewReader("x"))
	r2.Header.Set("Transfer-Encoding", "chunked")
	vars, _ := FromRequest(r2, Options{})
	if _, ok := Get(vars, "HTTP_TRANSFER_ENCODING"); ok {
		t.Error("HTTP_TRANSFER_ENCODING sent to the backend")
	}
}

func TestFromRequestUnknownLength(t *testing.T) {
	r := httptest.NewRequest("POST", "/", strings.NewReader("x"))
	r.ContentLength = -1
	if _, err := FromRequest(r, Options{}); !errors.Is(err, ErrLengthRequired) {
		t.Errorf("err = %v, want ErrLengthRequired", err)
	}
}

// TestRoundTrip: a request mapped to variables and back is the same
// request, mount point included.
func TestRoundTrip(t *testing.T) {
	in := httptest.NewRequest("PUT", "http://h.example/m/a%20b/c?k=v&k=w", strings.NewReader("data"))
	in.RemoteAddr = "[2001:db8::1]:4242"
	in.Header.Set("X-Custom", "one, two")
	in.Header.Set("Content-Type", "application/json")
	in = mount.Shift(in, "/m")
	vars, err := FromRequest(in, Options{NoForwarded: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := ToRequest(vars, strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	want := shapeOf(in)
	want.RequestURI = "/m/a%20b/c?k=v&k=w" // absolute-form targets become origin-form
	want.Header = in.Header.Clone()
	want.Header.Set("Content-Length", "4")
	if diff := cmp.Diff(want, shapeOf(out)); diff != "" {
		t.Errorf("round trip mismatch (-in +out):\n%s", diff)
	}
}

func TestVarsNilOutside(t *testing.T) {
	if v := Vars(context.Background()); v != nil {
		t.Errorf("Vars = %v, want nil", v)
	}
}

// TestToRequestKeepsServerPortIssue13: nginx's stock *_params send
// HTTP_HOST as $host, without the port the client used; the request's
// Host takes it from SERVER_PORT unless it is the scheme's default, a
// Host with its own port keeps it, and a bad SERVER_PORT is ignored.
func TestToRequestKeepsServerPortIssue13(t *testing.T) {
	for _, tc := range []struct {
		host, name, port, https, want string
	}{
		{"example.com", "", "8080", "", "example.com:8080"},
		{"example.com", "", "80", "", "example.com"},
		{"example.com", "", "443", "on", "example.com"},
		{"example.com", "", "80", "on", "example.com:80"},
		{"example.com:9000", "", "8080", "", "example.com:9000"},
		{"[::1]", "", "8080", "", "[::1]:8080"},
		{"example.com", "", "99999", "", "example.com"},
		{"example.com", "", "http", "", "example.com"},
		{"example.com", "", "+80", "", "example.com"},
		{"", "srv", "8081", "", "srv:8081"},
		{"", "srv", "0", "", "srv"},
		{"", "", "8080", "", ""},
	} {
		vars := []Pair{{"REQUEST_METHOD", "GET"}, {"SERVER_NAME", tc.name}, {"SERVER_PORT", tc.port}, {"HTTPS", tc.https}}
		if tc.host != "" {
			vars = append(vars, Pair{"HTTP_HOST", tc.host})
		}
		r, err := ToRequest(vars, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Host != tc.want {
			t.Errorf("HTTP_HOST %q SERVER_NAME %q SERVER_PORT %q HTTPS %q: Host = %q, want %q",
				tc.host, tc.name, tc.port, tc.https, r.Host, tc.want)
		}
	}
}

// TestFromRequestServerNamePortIssue12: SERVER_NAME and SERVER_PORT taken
// from a Host header are validated (a port out of range or not a number is
// replaced by the local port, a name with bytes no host has by the local
// address), and Options.ServerName pins them.
func TestFromRequestServerNamePortIssue12(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 8443}
	for _, tc := range []struct {
		host, pin, wantName, wantPort string
	}{
		{"example.com:8080", "", "example.com", "8080"},
		{"example.com", "", "example.com", "8443"},
		{"example.com:99999", "", "example.com", "8443"},
		{"example.com:0", "", "example.com", "8443"},
		{"example.com:-1", "", "example.com", "8443"},
		{"example.com:http", "", "example.com", "8443"},
		{"example.com:00080", "", "example.com", "8443"},
		{"[::1]:81", "", "::1", "81"},
		{"ex/ample.com", "", "127.0.0.2", "8443"},
		{"<script>:80", "", "127.0.0.2", "80"},
		{"evil.example:1", "site.example", "site.example", "8443"},
		{"evil.example:1", "site.example:8000", "site.example", "8000"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = tc.host
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
		vars, err := FromRequest(r, Options{ServerName: tc.pin})
		if err != nil {
			t.Fatal(err)
		}
		name, _ := Get(vars, "SERVER_NAME")
		port, _ := Get(vars, "SERVER_PORT")
		if name != tc.wantName || port != tc.wantPort {
			t.Errorf("Host %q server_name %q: SERVER_NAME %q SERVER_PORT %q, want %q %q",
				tc.host, tc.pin, name, port, tc.wantName, tc.wantPort)
		}
	}
}

// TestFromRequestForwardedPrefixIssue12: a client's X-Forwarded-Prefix is
// replaced by the mount prefix, or dropped outside a mount; it is never
// passed through.
func TestFromRequestForwardedPrefixIssue12(t *testing.T) {
	r := httptest.NewRequest("GET", "/py/x", nil)
	r.Header.Set("X-Forwarded-Prefix", "/evil")
	mounted := mount.Shift(r, "/py")
	// A header map filled by hand may hold a key in another case.
	lower := httptest.NewRequest("GET", "/py/x", nil)
	lower.Header["x-forwarded-prefix"] = []string{"/evil"}
	lowerMounted := mount.Shift(lower, "/py")
	for _, tc := range []struct {
		r    *http.Request
		opts Options
		want string
		ok   bool
	}{
		{mounted, Options{}, "/py", true},
		{r, Options{}, "", false},
		{r, Options{ScriptName: "/app"}, "/app", true},
		{mounted, Options{ScriptName: "/"}, "", false},
		// The cgi app and cgi2scgi add no hop, and still drop it.
		{mounted, Options{NoForwarded: true}, "", false},
		{lower, Options{NoForwarded: true}, "", false},
		{lowerMounted, Options{}, "/py", true},
	} {
		vars, err := FromRequest(tc.r, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := Get(vars, "HTTP_X_FORWARDED_PREFIX"); got != tc.want || ok != tc.ok {
			t.Errorf("%s %+v: HTTP_X_FORWARDED_PREFIX = %q (%v), want %q (%v)", tc.r.URL.Path, tc.opts, got, ok, tc.want, tc.ok)
		}
	}
}

// TestForbidden: the one rule of headers no backend gets.
func TestForbidden(t *testing.T) {
	for k, want := range map[string]bool{
		"Proxy": true, "proxy": true, "X-Auth_User": true, "Bad Name": true, "": true,
		"X-Auth-User": false, "Proxy-Authorization": false, "Content-Type": false,
	} {
		if Forbidden(k) != want {
			t.Errorf("Forbidden(%q) = %v, want %v", k, !want, want)
		}
	}
}

// HeaderVar is "HTTP_" and the name upper-cased with dashes as
// underscores, for every token (the common names from a table included),
// in one allocation, none for a common name.
func TestHeaderVar(t *testing.T) {
	names := []string{"User-Agent", "x-forwarded-for", "Accept", "X-a-B-c", "A1-b2", "!#$%&'*+.^`|~", ""}
	for k := range commonVars {
		names = append(names, k)
	}
	for _, k := range names {
		want := "HTTP_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		if got := HeaderVar(k); got != want {
			t.Errorf("HeaderVar(%q) = %q, want %q", k, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { HeaderVar("Accept-Encoding") }); n != 0 {
		t.Errorf("HeaderVar of a common name allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { HeaderVar("X-Custom-Thing") }); n != 1 {
		t.Errorf("HeaderVar allocates %v times, want 1", n)
	}
}

// FuzzHeaderVar: for every token, HeaderVar is the plain formula.
func FuzzHeaderVar(f *testing.F) {
	for _, k := range []string{"User-Agent", "x-forwarded-for", "X-a-B-c", "~"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if !ValidToken(k) {
			return
		}
		if got, want := HeaderVar(k), "HTTP_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_")); got != want {
			t.Errorf("HeaderVar(%q) = %q, want %q", k, got, want)
		}
	})
}
