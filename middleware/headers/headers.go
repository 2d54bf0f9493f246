// Package headers sets, adds and removes response headers, and with the
// "security" preset adds the usual security headers.
//
// Rules apply just before the response's header is sent (at the first
// WriteHeader, Write or Flush, or when the handler returns without
// writing), so they see, and can override or remove, what the application
// set. Preset headers are defaults: an application's own value wins.
package headers

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"sync"

	"github.com/gopaste/gopaste/middleware/proxyfix"
)

// Op is what a rule does.
type Op int

// The rule operations.
const (
	Set     Op = iota + 1 // replace any value the application set
	Add                   // add a value after the application's
	Remove                // delete the header
	Default               // set only when the application did not
)

// Rule is one header operation.
type Rule struct {
	Op    Op
	Name  string
	Value string // unused by Remove
}

// Options configure the filter.
type Options struct {
	// Preset adds a group of default headers: "" (none) or "security".
	Preset string
	// Rules apply in order, after the preset.
	Rules []Rule
}

// Security is the "security" preset. Each header is a default; the
// Strict-Transport-Security one is sent only over HTTPS (as
// proxyfix.Scheme sees it), and X-Powered-By is removed.
var Security = []Rule{
	{Default, "X-Content-Type-Options", "nosniff"},
	{Default, "X-Frame-Options", "SAMEORIGIN"},
	{Default, "Referrer-Policy", "strict-origin-when-cross-origin"},
	{Default, "Cross-Origin-Opener-Policy", "same-origin"},
	{Default, "Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
	{Remove, "X-Powered-By", ""},
}

const hsts = "max-age=31536000; includeSubDomains"

// New returns the filter. It fails on an unknown preset, an invalid
// header name or a value with a control character.
func New(o Options) (func(http.Handler) http.Handler, error) {
	var rules []Rule
	tlsOnly := false
	switch o.Preset {
	case "":
	case "security":
		rules = append(rules, Security...)
		tlsOnly = true
	default:
		return nil, fmt.Errorf("headers: unknown preset %q (want security)", o.Preset)
	}
	for _, r := range o.Rules {
		if r.Op < Set || r.Op > Default {
			return nil, fmt.Errorf("headers: rule for %q has no operation", r.Name)
		}
		if !validName(r.Name) {
			return nil, fmt.Errorf("headers: %q is not a valid header name", r.Name)
		}
		if strings.ContainsFunc(r.Value, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }) {
			return nil, fmt.Errorf("headers: value of %s has a control character", r.Name)
		}
		r.Name = textproto.CanonicalMIMEHeaderKey(r.Name)
		r.Value = strings.TrimSpace(r.Value)
		rules = append(rules, r)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			w := pool.Get().(*writer)
			*w = writer{ResponseWriter: rw, rules: rules, hsts: tlsOnly && proxyfix.Scheme(r) == "https"}
			defer func() {
				w.apply() // a handler that wrote nothing still gets its headers
				*w = writer{}
				pool.Put(w)
			}()
			next.ServeHTTP(w, r)
		})
	}, nil
}

var pool = sync.Pool{New: func() any { return new(writer) }}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// writer applies the rules once, before the header goes out.
type writer struct {
	http.ResponseWriter
	rules   []Rule
	hsts    bool
	applied bool
}

func (w *writer) apply() {
	if w.applied {
		return
	}
	w.applied = true
	h := w.ResponseWriter.Header()
	for _, r := range w.rules {
		switch r.Op {
		case Set:
			h[r.Name] = []string{r.Value}
		case Add:
			h[r.Name] = append(h[r.Name], r.Value)
		case Remove:
			delete(h, r.Name)
		case Default:
			if len(h[r.Name]) == 0 {
				h[r.Name] = []string{r.Value}
			}
		}
	}
	if w.hsts && len(h["Strict-Transport-Security"]) == 0 {
		h["Strict-Transport-Security"] = []string{hsts}
	}
}

func (w *writer) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.apply()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(b []byte) (int, error) {
	w.apply()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends the header (with the rules applied) and buffered data.
func (w *writer) Flush() {
	w.FlushError() // no flusher or client gone: nothing to do
}

// FlushError is Flush with its error; ResponseController prefers it.
func (w *writer) FlushError() error {
	w.apply()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack takes over the connection; no headers are applied after it.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.applied = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
