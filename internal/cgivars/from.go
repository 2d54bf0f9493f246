package cgivars

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/mount"
)

// Options tune FromRequest. The zero value is what a gateway client wants.
type Options struct {
	// ScriptName, when set, replaces the mount prefix of the request as
	// SCRIPT_NAME; "/" means an empty SCRIPT_NAME. PATH_INFO is the path
	// below the mount either way.
	ScriptName string
	// DocumentRoot, when set, is sent as DOCUMENT_ROOT.
	DocumentRoot string
	// ServerName, when set, pins SERVER_NAME (and, as "name:port",
	// SERVER_PORT) instead of taking them from the Host header.
	ServerName string
	// ServerSoftware is SERVER_SOFTWARE; default "gopaste".
	ServerSoftware string
	// NoForwarded leaves the X-Forwarded-For, -Proto and -Host headers
	// as they came instead of adding this hop. A client's
	// X-Forwarded-Prefix is dropped either way.
	NoForwarded bool
	// Extra variables are added last; one whose name is already set
	// replaces the earlier value.
	Extra []Pair
}

// FromRequest returns the CGI variables for r, CONTENT_LENGTH first (SCGI
// requires it), as a gateway client sends them to a backend: SCRIPT_NAME
// from the mount prefix (or opts.ScriptName), PATH_INFO the path below it,
// REQUEST_URI, QUERY_STRING, REMOTE_ADDR/PORT, SERVER_NAME/PORT/PROTOCOL,
// HTTPS, CONTENT_TYPE/LENGTH and an HTTP_* variable per header, with
// X-Forwarded-For/Proto/Host for this hop and X-Forwarded-Prefix set to
// SCRIPT_NAME (a client's own X-Forwarded-Prefix is never passed on).
//
// SERVER_NAME and SERVER_PORT come from the Host header when it is a
// valid host and port: a port that is not a number from 1 to 65535 is
// ignored (the local port, else 80 or 443, is sent), and so is a name
// with bytes no host name has (the local address is sent).
// opts.ServerName pins them.
//
// The Proxy header (httpoxy) and header names holding an underscore are
// dropped; CR, LF or NUL anywhere is an error wrapping ErrInvalidByte. A
// body of unknown length gives ErrLengthRequired.
func FromRequest(r *http.Request, opts Options) ([]Pair, error) {
	return AppendFromRequest(nil, r, opts)
}

// AppendFromRequest appends the variables FromRequest returns to dst,
// for a client that reuses their slice from one request to the next. On
// an error it returns dst as it was.
func AppendFromRequest(dst []Pair, r *http.Request, opts Options) ([]Pair, error) {
	clen := r.ContentLength
	if clen < 0 {
		return dst, ErrLengthRequired
	}
	if r.Body == nil || r.Body == http.NoBody {
		clen = 0
	}
	script := opts.ScriptName
	if script == "" {
		script = mount.ScriptName(r.Context())
	} else if script == "/" {
		script = ""
	}
	pathInfo := r.URL.Path
	if pathInfo == "" && script == "" {
		pathInfo = "/"
	}
	if strings.Contains(script, "\x00") || strings.Contains(pathInfo, "\x00") {
		return dst, fmt.Errorf("%w: path", ErrInvalidByte)
	}
	reqURI := r.RequestURI
	if reqURI == "" || strings.Contains(reqURI, "://") {
		reqURI = (&url.URL{Path: script + pathInfo, RawPath: rawFull(r, script), RawQuery: r.URL.RawQuery}).RequestURI()
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	software := opts.ServerSoftware
	if software == "" {
		software = "gopaste"
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	serverName, serverPort := splitHost(host)
	if opts.ServerName != "" {
		serverName, serverPort = splitHost(opts.ServerName)
	}
	if !validPort(serverPort) {
		serverPort = localPort(r)
	}
	if serverPort == "" {
		serverPort = "80"
		if r.TLS != nil {
			serverPort = "443"
		}
	}
	if !validHostName(serverName) {
		serverName = localHost(r)
	}
	remoteAddr, remotePort := r.RemoteAddr, ""
	if h, p, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		remoteAddr, remotePort = h, p
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}

	base := len(dst)
	vars := slices.Grow(dst, 24+len(r.Header))
	add := func(name, value string) { vars = append(vars, Pair{name, value}) }
	add("CONTENT_LENGTH", strconv.FormatInt(clen, 10))
	add("GATEWAY_INTERFACE", "CGI/1.1")
	add("SERVER_SOFTWARE", software)
	add("SERVER_PROTOCOL", proto)
	add("SERVER_NAME", serverName)
	add("SERVER_PORT", serverPort)
	add("REQUEST_METHOD", method)
	add("REQUEST_SCHEME", scheme)
	add("REQUEST_URI", reqURI)
	add("DOCUMENT_URI", script+pathInfo)
	add("SCRIPT_NAME", script)
	add("PATH_INFO", pathInfo)
	add("QUERY_STRING", r.URL.RawQuery)
	add("REMOTE_ADDR", remoteAddr)
	if remotePort != "" {
		add("REMOTE_PORT", remotePort)
	}
	if r.TLS != nil {
		add("HTTPS", "on")
	}
	if opts.DocumentRoot != "" {
		add("DOCUMENT_ROOT", opts.DocumentRoot)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		add("CONTENT_TYPE", ct)
	}
	if host != "" {
		add("HTTP_HOST", host)
	}

	// This hop's X-Forwarded-For, -Host, -Prefix and -Proto replace the
	// client's (under their canonical names, as Header.Set would); the
	// headers go out in name order.
	var own [4]Pair
	if !opts.NoForwarded {
		xff := remoteAddr
		if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 && remoteAddr != "" {
			xff = strings.Join(prior, ", ") + ", " + remoteAddr
		}
		own = [4]Pair{{"X-Forwarded-For", xff}, {"X-Forwarded-Host", host}, {"X-Forwarded-Prefix", script}, {"X-Forwarded-Proto", scheme}}
	}
	ownValue := func(k string) (string, bool) {
		for _, p := range own {
			if p.Name == k && p.Value != "" {
				return p.Value, true
			}
		}
		return "", false
	}
	type header struct {
		name   string
		values []string // nil for this hop's own, whose value is own
		own    string
	}
	var buf [32]header
	hs := buf[:0]
	for k, vs := range r.Header {
		if _, ok := ownValue(k); !ok {
			hs = append(hs, header{name: k, values: vs})
		}
	}
	for _, p := range own {
		if p.Value != "" {
			hs = append(hs, header{name: p.Name, own: p.Value})
		}
	}
	slices.SortFunc(hs, func(a, b header) int { return strings.Compare(a.name, b.name) })
	// Only a trusted front end may say the prefix, and this hop is the
	// one: a client's X-Forwarded-Prefix is dropped, under NoForwarded
	// too (SCRIPT_NAME says the prefix), and in any spelling.
	ownPrefix := !opts.NoForwarded && script != ""
	for _, h := range hs {
		k := h.name
		ck := http.CanonicalHeaderKey(k)
		if dropCanonical(k, ck) {
			continue
		}
		if ck == "X-Forwarded-Prefix" && (!ownPrefix || k != "X-Forwarded-Prefix") {
			continue
		}
		v := h.own
		if h.values != nil {
			sep := ", "
			if ck == "Cookie" {
				sep = "; "
			}
			v = strings.Join(h.values, sep)
		}
		add(HeaderVar(k), v)
	}
	for _, e := range opts.Extra {
		replaced := false
		for i := base; i < len(vars); i++ {
			if vars[i].Name == e.Name {
				vars[i].Value, replaced = e.Value, true
			}
		}
		if !replaced {
			vars = append(vars, e)
		}
	}
	if err := Check(vars[base:]); err != nil {
		return dst, err
	}
	return vars, nil
}

// HeaderVar returns the CGI variable name of header name k: "HTTP_" and k
// in upper case with dashes as underscores.
func HeaderVar(k string) string {
	if v, ok := commonVars[k]; ok {
		return v
	}
	return headerVar(k)
}

// commonVars holds the variables of the headers most requests carry,
// by their canonical names, so that HeaderVar allocates none for them.
var commonVars = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Cookie", "Dnt", "If-Match", "If-Modified-Since", "If-None-Match",
		"If-Range", "If-Unmodified-Since", "Origin", "Pragma", "Priority", "Range", "Referer",
		"Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode",
		"Sec-Fetch-Site", "Sec-Fetch-User", "Traceparent", "Upgrade-Insecure-Requests", "User-Agent",
		"Via", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Prefix", "X-Forwarded-Proto",
		"X-Real-Ip", "X-Request-Id", "X-Requested-With",
	} {
		m[k] = headerVar(k)
	}
	return m
}()

func headerVar(k string) string {
	// One pass and one allocation: it runs for every header of every
	// request a gateway client sends. Header names are tokens (ASCII);
	// other bytes are kept as they are.
	var b strings.Builder
	b.Grow(len("HTTP_") + len(k))
	b.WriteString("HTTP_")
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c == '-':
			b.WriteByte('_')
		case 'a' <= c && c <= 'z':
			b.WriteByte(c - ('a' - 'A'))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Forbidden reports whether header k must reach no backend, whatever the
// protocol: Proxy (httpoxy, CVE-2016-5385 and friends) and names with an
// underscore or outside the token alphabet, which a CGI-style backend
// could not tell from a dashed name (X-Auth_User posing as X-Auth-User).
// The gateway clients and http_proxy drop the same headers by it.
func Forbidden(k string) bool {
	return forbidden(k, http.CanonicalHeaderKey(k))
}

// forbidden is Forbidden(k) given ck, k's canonical form.
func forbidden(k, ck string) bool {
	return strings.Contains(k, "_") || !ValidToken(k) || ck == "Proxy"
}

// dropHeader reports whether header k is not sent as an HTTP_* variable:
// the Forbidden ones, framing and hop-by-hop headers, Content-Type (sent
// as CONTENT_TYPE) and Host (sent as HTTP_HOST).
func dropHeader(k string) bool {
	return dropCanonical(k, http.CanonicalHeaderKey(k))
}

// dropCanonical is dropHeader(k) given ck, k's canonical form: a request
// canonicalises each of its headers once.
func dropCanonical(k, ck string) bool {
	if forbidden(k, ck) {
		return true
	}
	switch ck {
	case "Content-Type", "Content-Length", "Transfer-Encoding", "Host",
		"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Upgrade":
		return true
	}
	return false
}

// rawFull returns the escaped full path when r's RawPath is meaningful.
func rawFull(r *http.Request, script string) string {
	if r.URL.RawPath == "" {
		return ""
	}
	return (&url.URL{Path: script}).EscapedPath() + r.URL.RawPath
}

func splitHost(host string) (name, port string) {
	if h, p, err := net.SplitHostPort(host); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ""
}

// ValidServerName reports whether s can be Options.ServerName: a host
// name or address, or host:port with a port from 1 to 65535.
func ValidServerName(s string) bool {
	name, port := splitHost(s)
	return validHostName(name) && (port == "" || validPort(port)) && !strings.HasSuffix(s, ":")
}

// validPort reports whether p is a TCP port: 1 to 65535 in decimal
// digits, without a sign or leading zeros.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] < '1' || p[0] > '9' {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n <= 65535
}

// validHostName reports whether s can be a SERVER_NAME: a DNS name, an
// IPv4 address or an IPv6 address (without brackets).
func validHostName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == ':':
		default:
			return false
		}
	}
	return true
}

// localHost returns the address r came in on, "localhost" when unknown.
func localHost(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return "localhost"
}

func localPort(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		return strconv.Itoa(a.Port)
	}
	return ""
}
