// Package cgivars is the one mapping between *http.Request and the CGI
// variables (RFC 3875, as WSGI, SCGI, uwsgi and FastCGI carry them) used by
// every gateway protocol of gopaste, in both directions:
//
//   - [ToRequest] turns the variables a web server sent (nginx, Apache,
//     cgi-fcgi...) into the request a handler sees, for the protocol
//     servers;
//   - [FromRequest] turns a request into the variables a backend gets, for
//     the protocol clients.
//
// The security rules of the gateways live here, once: framing comes only
// from CONTENT_LENGTH (never from HTTP_CONTENT_LENGTH or
// HTTP_TRANSFER_ENCODING copies), the Proxy header is never forwarded
// (httpoxy), header names with an underscore are dropped (so X-Auth_User
// cannot pose as X-Auth-User), and CR, LF or NUL in a name or value is an
// error ([ErrInvalidByte]).
//
// What web servers really send, and how ToRequest reads it:
//
//   - nginx scgi_params: no SCRIPT_NAME and no PATH_INFO, only REQUEST_URI
//     (raw) and DOCUMENT_URI (decoded). The path comes from REQUEST_URI.
//   - nginx uwsgi_params: PATH_INFO=$document_uri and no SCRIPT_NAME.
//   - Apache mod_proxy_scgi: SCRIPT_NAME is the whole decoded path and
//     there is no PATH_INFO. Without PATH_INFO, SCRIPT_NAME is read as the
//     path and the script name is empty.
//   - FastCGI GETs carry CONTENT_LENGTH="" which reads as 0.
package cgivars

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/mount"
)

// Pair is one CGI variable. Protocols keep variables in order (SCGI needs
// CONTENT_LENGTH first), so the mapping works on slices of pairs.
type Pair struct {
	Name, Value string
}

var (
	// ErrInvalidByte reports a CR, LF or NUL in a variable's name or
	// value, or in a header or path that would become one.
	ErrInvalidByte = errors.New("cgivars: CR, LF or NUL in a variable")
	// ErrBadContentLength reports a CONTENT_LENGTH that is not a
	// non-negative decimal number, or two that differ.
	ErrBadContentLength = errors.New("cgivars: bad CONTENT_LENGTH")
	// ErrNoMethod reports a missing or malformed REQUEST_METHOD.
	ErrNoMethod = errors.New("cgivars: missing or malformed REQUEST_METHOD")
	// ErrLengthRequired is returned by FromRequest for a request whose body
	// length is unknown (a chunked upload): CGI needs CONTENT_LENGTH, so
	// the caller must spool the body first or answer 411.
	ErrLengthRequired = errors.New("cgivars: request body length unknown")
)

// FromMap returns the variables of m as pairs, in no particular order.
func FromMap(m map[string]string) []Pair {
	ps := make([]Pair, 0, len(m))
	for k, v := range m {
		ps = append(ps, Pair{k, v})
	}
	return ps
}

// Get returns the value of the last variable called name.
func Get(vars []Pair, name string) (string, bool) {
	for i := len(vars) - 1; i >= 0; i-- {
		if vars[i].Name == name {
			return vars[i].Value, true
		}
	}
	return "", false
}

type varsKey struct{}

// Vars returns the variables a request built by ToRequest came from, nil
// for other requests.
func Vars(ctx context.Context) []Pair {
	v, _ := ctx.Value(varsKey{}).([]Pair)
	return v
}

// Check returns an error wrapping ErrInvalidByte when a name or value holds
// CR, LF or NUL.
func Check(vars []Pair) error {
	for _, p := range vars {
		if badBytes(p.Name) || badBytes(p.Value) {
			return fmt.Errorf("%w: %q", ErrInvalidByte, p.Name)
		}
	}
	return nil
}

func badBytes(s string) bool {
	// A loop rather than strings.ContainsAny, which builds its byte set
	// on each call: Check runs on some thirty variables per request.
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r', '\n', 0:
			return true
		}
	}
	return false
}

// ToRequest builds the server-side request described by CGI variables vars,
// reading its body from body. The body is limited to CONTENT_LENGTH bytes
// (an empty or missing CONTENT_LENGTH is 0), and reading it reports
// io.ErrUnexpectedEOF when body ends sooner. The request is shaped as
// net/http's server shapes one: URL holds only path and query, RequestURI
// the raw target, Host the Host header (or SERVER_NAME), with SERVER_PORT
// added when it has no port and SERVER_PORT is not the scheme's default,
// RemoteAddr "addr:port", TLS non-nil
// under HTTPS=on. SCRIPT_NAME goes into the mount context
// ([mount.ScriptName]) and r.URL.Path is PATH_INFO.
func ToRequest(vars []Pair, body io.Reader) (*http.Request, error) {
	if err := Check(vars); err != nil {
		return nil, err
	}
	var (
		method, proto, reqURI, docURI, query, ctype, remoteAddr, remotePort string
		serverName, serverPort, https, scheme                               string
		scriptName, pathInfo                                                string
		clen                                                                = "0"
		haveCLen, havePathInfo, haveQuery, haveCType                        bool
	)
	h := make(http.Header)
	for _, p := range vars {
		switch p.Name {
		case "REQUEST_METHOD":
			method = p.Value
		case "SERVER_PROTOCOL":
			proto = p.Value
		case "REQUEST_URI":
			reqURI = p.Value
		case "DOCUMENT_URI":
			docURI = p.Value
		case "QUERY_STRING":
			query, haveQuery = p.Value, true
		case "CONTENT_TYPE":
			ctype, haveCType = p.Value, true
		case "CONTENT_LENGTH":
			v := strings.TrimSpace(p.Value)
			if v == "" {
				v = "0"
			}
			if haveCLen && v != clen {
				return nil, fmt.Errorf("%w: %q and %q", ErrBadContentLength, clen, v)
			}
			clen, haveCLen = v, true
		case "REMOTE_ADDR":
			remoteAddr = p.Value
		case "REMOTE_PORT":
			remotePort = p.Value
		case "SERVER_NAME":
			serverName = p.Value
		case "SERVER_PORT":
			serverPort = p.Value
		case "HTTPS":
			https = p.Value
		case "REQUEST_SCHEME":
			scheme = p.Value
		case "SCRIPT_NAME":
			scriptName = p.Value
		case "PATH_INFO":
			pathInfo, havePathInfo = p.Value, true
		default:
			name, ok := strings.CutPrefix(p.Name, "HTTP_")
			if !ok || name == "" {
				continue
			}
			switch name {
			case "CONTENT_LENGTH", "TRANSFER_ENCODING":
				// nginx copies the client's framing headers here after
				// de-chunking; framing is CONTENT_LENGTH's alone.
				continue
			}
			key := http.CanonicalHeaderKey(strings.ReplaceAll(name, "_", "-"))
			if !ValidToken(key) {
				continue
			}
			// nginx before 1.23 sends a repeated header once per line.
			h[key] = append(h[key], p.Value)
		}
	}
	if !ValidToken(method) {
		return nil, fmt.Errorf("%w: %q", ErrNoMethod, method)
	}
	n, err := strconv.ParseInt(clen, 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: %q", ErrBadContentLength, clen)
	}

	r := &http.Request{
		Method:        method,
		Header:        h,
		Proto:         "HTTP/1.0",
		ProtoMajor:    1,
		ContentLength: n,
	}
	if major, minor, ok := http.ParseHTTPVersion(proto); ok {
		r.Proto, r.ProtoMajor, r.ProtoMinor = proto, major, minor
	}
	if haveCType {
		h.Del("Content-Type")
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
	}
	if n > 0 {
		h.Set("Content-Length", clen)
	} else {
		h.Del("Content-Length")
	}
	secure := on(https) || strings.EqualFold(scheme, "https")
	r.Host = withPort(h.Get("Host"), serverName, serverPort, secure)
	h.Del("Host")
	if secure {
		r.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: hostOnly(r.Host)}
	}
	if remoteAddr != "" || remotePort != "" {
		port, _ := strconv.Atoi(remotePort) // zero when unset or bad, as net/http/cgi
		r.RemoteAddr = net.JoinHostPort(remoteAddr, strconv.Itoa(port))
	}

	// The target: REQUEST_URI as sent, else rebuilt from the parts.
	var target *url.URL
	if reqURI != "" {
		if u, err := url.ParseRequestURI(reqURI); err == nil && u.Host == "" {
			target = u
		}
	}
	script, path := "", ""
	switch {
	case havePathInfo:
		script, path = scriptName, pathInfo
	case target != nil:
		path = target.Path
	case docURI != "":
		path = docURI
	default:
		path = scriptName
	}
	if script == "/" {
		script = ""
	}
	if script == "" && path == "" {
		path = "/"
	}
	if strings.Contains(script+path, "\x00") {
		return nil, fmt.Errorf("%w: path", ErrInvalidByte)
	}
	u := &url.URL{Path: path}
	if haveQuery {
		u.RawQuery = query
	} else if target != nil {
		u.RawQuery = target.RawQuery
	}
	if target != nil && target.RawPath != "" {
		u.RawPath = stripRawPrefix(target.RawPath, script)
	}
	r.URL = u
	if reqURI != "" {
		r.RequestURI = reqURI
	} else {
		r.RequestURI = (&url.URL{Path: script + path, RawQuery: u.RawQuery}).RequestURI()
	}

	if n > 0 {
		if body == nil {
			body = strings.NewReader("")
		}
		r.Body = &bodyReader{r: body, n: n}
	} else {
		r.Body = http.NoBody
		r.ContentLength = 0
	}
	ctx := context.WithValue(context.Background(), varsKey{}, vars)
	if script != "" {
		ctx = mount.WithScriptName(ctx, script)
	}
	return r.WithContext(ctx), nil
}

// withPort returns the request's Host: the Host header, or SERVER_NAME
// without one, given SERVER_PORT when it has no port of its own and
// SERVER_PORT is a valid port other than the scheme's default. nginx's
// stock *_params send HTTP_HOST as $host, without the port the client
// used; SERVER_PORT is that port.
func withPort(host, serverName, serverPort string, secure bool) string {
	if host == "" {
		host = serverName
	}
	if host == "" || !validPort(serverPort) {
		return host
	}
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if secure && serverPort == "443" || !secure && serverPort == "80" {
		return host
	}
	bare := host
	if len(bare) > 1 && bare[0] == '[' && bare[len(bare)-1] == ']' {
		bare = bare[1 : len(bare)-1]
	} else if strings.Contains(bare, ":") {
		return host // neither host:port nor a bracketed address: left alone
	}
	return net.JoinHostPort(bare, serverPort)
}

// stripRawPrefix drops from raw (an escaped path) the segments that encode
// script; an inconsistent result is harmless, url.URL ignores a RawPath
// that does not encode Path.
func stripRawPrefix(raw, script string) string {
	if script == "" {
		return raw
	}
	k := strings.Count(script, "/")
	i := 0
	for seen := 0; i < len(raw); i++ {
		if raw[i] == '/' {
			if seen == k {
				break
			}
			seen++
		}
	}
	return raw[i:]
}

func on(v string) bool {
	switch strings.ToLower(v) {
	case "on", "1", "yes", "true":
		return true
	}
	return false
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// ValidToken reports whether s is an RFC 9110 token (a method or header
// name).
func ValidToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// bodyReader reads exactly n bytes of a request body and reports
// io.ErrUnexpectedEOF when the stream ends sooner (a client that stopped
// mid-body).
type bodyReader struct {
	r io.Reader
	n int64
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	if err == io.EOF {
		if b.n > 0 {
			return n, io.ErrUnexpectedEOF
		}
	} else if err == nil && b.n == 0 {
		err = io.EOF
	}
	return n, err
}

// Close does not close the underlying stream: the protocol server owns it.
func (b *bodyReader) Close() error { return nil }
