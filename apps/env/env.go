// Package env is the env app (Paste's egg:Paste#test): it answers every
// request with a JSON dump of the request as CGI/WSGI-style variables and
// of the config its factory received. It is the tool for debugging a
// config, and gopaste's own tests lean on it.
package env

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/internal/redact"
	"github.com/gopaste/gopaste/mount"
)

// Handler dumps the request. It is safe for concurrent use.
type Handler struct {
	GlobalConf map[string]string // shown, masked, as "global_conf"
	LocalConf  map[string]string // shown, masked, as "local_conf"
	// MaxBody is how many body bytes are shown under "body"; a larger body
	// is shown as its first MaxBody bytes with "body_truncated": true.
	// Zero means 64 KiB.
	MaxBody int64
	// ShowCredentials shows the request's Cookie, Authorization and
	// Proxy-Authorization headers as they came. By default their values
	// are masked: echoing them would hand a script on the same origin the
	// HttpOnly cookies and the credentials the browser keeps from it
	// (the cross-site tracing hole of TRACE).
	ShowCredentials bool
}

// credentials are the variables of the headers that carry the client's
// credentials, masked unless ShowCredentials is set.
var credentials = []string{"HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION"}

// Vars returns the CGI-style variables of r, the way a gateway would
// pass them to an application.
func Vars(r *http.Request) map[string]string {
	v := map[string]string{
		"REQUEST_METHOD":  r.Method,
		"SCRIPT_NAME":     mount.ScriptName(r.Context()),
		"PATH_INFO":       r.URL.Path,
		"QUERY_STRING":    r.URL.RawQuery,
		"REQUEST_URI":     r.RequestURI,
		"SERVER_PROTOCOL": r.Proto,
		"CONTENT_TYPE":    r.Header.Get("Content-Type"),
		"CONTENT_LENGTH":  "",
		"HTTPS":           "off",
	}
	if r.ContentLength > 0 {
		v["CONTENT_LENGTH"] = strconv.FormatInt(r.ContentLength, 10)
	}
	if r.TLS != nil {
		v["HTTPS"] = "on"
	}
	if u := auth.User(r.Context()); u != "" {
		v["REMOTE_USER"] = u
	}
	host, port := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		host, port = h, p
	}
	if port == "" {
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if _, p, err := net.SplitHostPort(la.String()); err == nil {
				port = p
			}
		}
	}
	if port == "" {
		port = "80"
		if r.TLS != nil {
			port = "443"
		}
	}
	v["SERVER_NAME"], v["SERVER_PORT"] = host, port
	if h, p, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		v["REMOTE_ADDR"], v["REMOTE_PORT"] = h, p
	} else {
		v["REMOTE_ADDR"] = r.RemoteAddr
	}
	for k, vs := range r.Header {
		name := "HTTP_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		if name == "HTTP_CONTENT_TYPE" || name == "HTTP_CONTENT_LENGTH" {
			continue
		}
		v[name] = strings.Join(vs, ", ")
	}
	return v
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	max := h.MaxBody
	if max <= 0 {
		max = 64 << 10
	}
	out := map[string]any{}
	for k, v := range Vars(r) {
		out[k] = v
	}
	if !h.ShowCredentials {
		for _, k := range credentials {
			if v, ok := out[k]; ok && v != "" {
				out[k] = redact.Mask
			}
		}
	}
	out["global_conf"] = redact.Map(h.GlobalConf)
	out["local_conf"] = redact.Map(h.LocalConf)
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		http.Error(w, "400 Bad Request: reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if int64(len(body)) > max {
		body = body[:max]
		out["body_truncated"] = true
	}
	out["body"] = string(body)
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.Write(append(b, '\n'))
}
