// Package httpexc lets handlers answer with an HTTP error value, as
// Paste's httpexceptions did: a handler panics with, or returns through
// [HandlerFunc], an [*Error] such as NotFound("") or Redirect(url, 303),
// and the error is rendered as the right response, with its status,
// headers (Location, Allow, WWW-Authenticate) and a short body in HTML,
// JSON or plain text.
//
// The filter built by [New] catches *Error panics from anywhere below it.
// Other panics go up unchanged, to the errors filter or net/http.
package httpexc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/internal/started"
)

// Error is an HTTP error answered as a response. Its zero Status means 500.
type Error struct {
	Status   int    // HTTP status code
	Message  string // shown to the client; empty means the status text
	Location string // for redirects: the target URL
	Allowed  []string
	// Challenge is the WWW-Authenticate value of a 401.
	Challenge string
	// Header holds extra response headers.
	Header http.Header
	// Err is an underlying cause, logged but never shown to the client.
	Err error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("http %d", e.code())
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) code() int {
	if e.Status < 100 || e.Status > 999 {
		return http.StatusInternalServerError
	}
	return e.Status
}

// New returns an error with status and message.
func NewError(status int, message string) *Error { return &Error{Status: status, Message: message} }

// Redirect answers with status (301, 302, 303, 307 or 308; anything else
// means 302) and Location url. A relative url is resolved against the
// request path, as http.Redirect does.
func Redirect(url string, status int) *Error {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		status = http.StatusFound
	}
	return &Error{Status: status, Location: url}
}

// BadRequest is a 400.
func BadRequest(msg string) *Error { return NewError(http.StatusBadRequest, msg) }

// Unauthorized is a 401 with a WWW-Authenticate challenge such as
// `Basic realm="site"` (none when empty).
func Unauthorized(challenge string) *Error {
	return &Error{Status: http.StatusUnauthorized, Challenge: challenge}
}

// Forbidden is a 403.
func Forbidden(msg string) *Error { return NewError(http.StatusForbidden, msg) }

// NotFound is a 404.
func NotFound(msg string) *Error { return NewError(http.StatusNotFound, msg) }

// MethodNotAllowed is a 405 with an Allow header listing allowed.
func MethodNotAllowed(allowed ...string) *Error {
	return &Error{Status: http.StatusMethodNotAllowed, Allowed: allowed}
}

// Conflict is a 409.
func Conflict(msg string) *Error { return NewError(http.StatusConflict, msg) }

// Gone is a 410.
func Gone(msg string) *Error { return NewError(http.StatusGone, msg) }

// RequestEntityTooLarge is a 413.
func RequestEntityTooLarge(msg string) *Error {
	return NewError(http.StatusRequestEntityTooLarge, msg)
}

// UnsupportedMediaType is a 415.
func UnsupportedMediaType(msg string) *Error {
	return NewError(http.StatusUnsupportedMediaType, msg)
}

// TooManyRequests is a 429.
func TooManyRequests(msg string) *Error { return NewError(http.StatusTooManyRequests, msg) }

// InternalServerError is a 500; err is logged, never shown.
func InternalServerError(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Err: err}
}

// NotImplemented is a 501.
func NotImplemented(msg string) *Error { return NewError(http.StatusNotImplemented, msg) }

// ServiceUnavailable is a 503.
func ServiceUnavailable(msg string) *Error {
	return NewError(http.StatusServiceUnavailable, msg)
}

// Format says how error bodies are written.
type Format int

// Body formats. Auto picks from the request's Accept header: JSON for a
// client that prefers application/json, HTML for browsers, text otherwise.
const (
	Auto Format = iota
	HTML
	JSON
	Text
)

// ServeHTTP writes e as a response in the Auto format.
func (e *Error) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.render(w, r, Auto) }

func (e *Error) render(w http.ResponseWriter, r *http.Request, f Format) {
	code := e.code()
	h := w.Header()
	for k, vs := range e.Header {
		h[k] = append([]string(nil), vs...)
	}
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(code)
	}
	switch {
	case e.Location != "" && code >= 300 && code < 400:
		// http.Redirect resolves relative URLs and writes a small body.
		http.Redirect(w, r, e.Location, code)
		return
	case code == http.StatusMethodNotAllowed && len(e.Allowed) > 0:
		h.Set("Allow", strings.Join(e.Allowed, ", "))
	case code == http.StatusUnauthorized && e.Challenge != "":
		h.Set("Www-Authenticate", e.Challenge)
	}
	if f == Auto {
		f = negotiate(r)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	var body string
	switch f {
	case JSON:
		h.Set("Content-Type", "application/json")
		b, _ := json.Marshal(struct {
			Status  int    `json:"status"`
			Message string `json:"message"`
		}{code, msg}) // cannot fail: two plain fields
		body = string(b) + "\n"
	case HTML:
		h.Set("Content-Type", "text/html; charset=utf-8")
		t := html.EscapeString(fmt.Sprintf("%d %s", code, http.StatusText(code)))
		body = "<!DOCTYPE html>\n<html><head><title>" + t + "</title></head>\n<body><h1>" + t +
			"</h1>\n<p>" + html.EscapeString(msg) + "</p></body></html>\n"
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body = fmt.Sprintf("%d %s\n", code, msg)
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead && code != http.StatusNoContent && code != http.StatusNotModified {
		w.Write([]byte(body)) // a failed write means the client left; nothing to do
	}
}

// negotiate picks the body format from Accept.
func negotiate(r *http.Request) Format {
	best, bestQ := Text, 0.0
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				continue
			}
		}
		var f Format
		switch mt {
		case "application/json":
			f = JSON
		case "text/html", "application/xhtml+xml":
			f = HTML
		case "text/plain":
			f = Text
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = f, q
		}
	}
	return best
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// HandlerFunc is a handler that may return an error. An *Error (anywhere
// in the chain) is rendered; any other error panics, so that the errors
// filter reports it, or net/http logs it and drops the connection when
// no errors filter is installed.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP calls f and renders the error it returns.
func (f HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	err := f(w, r)
	if err == nil {
		return
	}
	if e, ok := As(err); ok {
		e.render(w, r, formatFrom(r))
		return
	}
	panic(err)
}

// Options configure the filter.
type Options struct {
	// Format of error bodies; the zero value Auto negotiates with Accept.
	Format Format
	// Logger gets the cause of 5xx errors; nil means slog.Default().
	Logger *slog.Logger
}

// New returns the filter: it recovers *Error panics (a panic with an
// error wrapping an *Error counts too) and renders them. If the response
// had already started, it logs the error and aborts the response with
// http.ErrAbortHandler. Other panics are re-panicked unchanged.
func New(o Options) (func(http.Handler) http.Handler, error) {
	if o.Format < Auto || o.Format > Text {
		return nil, fmt.Errorf("httpexc: unknown format %d", o.Format)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tw := &started.Writer{ResponseWriter: w}
			if o.Format != Auto {
				r = r.WithContext(context.WithValue(r.Context(), formatKey{}, o.Format))
			}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				err, isErr := v.(error)
				e, ok := As(err)
				if !isErr || !ok {
					panic(v)
				}
				if e.code() >= 500 {
					log.ErrorContext(r.Context(), "handler error", "method", r.Method, "path", r.URL.Path, "status", e.code(), "err", e)
				}
				if tw.Started {
					log.WarnContext(r.Context(), "http error after the response started", "method", r.Method, "path", r.URL.Path, "status", e.code())
					panic(http.ErrAbortHandler)
				}
				e.render(w, r, o.Format)
			}()
			next.ServeHTTP(tw, r)
		})
	}, nil
}

type formatKey struct{}

// formatFrom returns the format the filter above r was configured with.
func formatFrom(r *http.Request) Format {
	f, _ := r.Context().Value(formatKey{}).(Format)
	return f
}
