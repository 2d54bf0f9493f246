// Package validate is a debugging aid that checks the well-formedness of
// the HTML a handler sends, as Paste's HTML validation middleware did.
//
// It looks at text/html responses (not compressed, not to HEAD, not 1xx,
// 204 or 304) up to a size bound, and checks that tags balance: end tags
// that close nothing or the wrong element, elements left open, end tags
// on void elements (br, img, input...), self-closing syntax on non-void
// elements, unterminated tags and comments. Elements whose end tag HTML
// lets one omit (p, li, td, ...) may be left open. It is a tag-balance
// check, not a full HTML validator.
//
// Problems are logged (component=validate) and appended to the body as an
// HTML comment; Content-Length is fixed and a now-wrong ETag dropped. A
// clean document passes unchanged.
//
// To look at the whole body the filter holds the response until the
// handler returns. A response that flushes, hijacks, or grows past
// MaxBytes is passed on as it is, unchecked: streaming keeps working.
package validate

import (
	"bufio"
	"bytes"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Options configure the filter; the zero value is usable.
type Options struct {
	// MaxBytes is the largest body checked; zero means 1 MiB. Larger
	// bodies pass unchecked.
	MaxBytes int64
	// Logger receives the problems; nil means slog.Default(). It gets
	// component=validate added.
	Logger *slog.Logger
}

// New returns the validate middleware.
func New(o Options) func(http.Handler) http.Handler {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 20
	}
	l := o.Logger
	if l == nil {
		l = slog.Default()
	}
	l = l.With("component", "validate")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			vw := &writer{rw: w, max: o.MaxBytes}
			next.ServeHTTP(vw, r)
			vw.finish(r, l)
		})
	}
}

// writer holds an HTML response until the handler returns.
type writer struct {
	rw  http.ResponseWriter
	max int64

	status   int
	holding  bool // an HTML body is being held
	passing  bool // passed through, unchecked
	hijacked bool
	buf      bytes.Buffer
}

func (w *writer) Header() http.Header { return w.rw.Header() }

func (w *writer) WriteHeader(code int) {
	if w.passing {
		w.rw.WriteHeader(code) // let net/http judge a second call
		return
	}
	if w.status != 0 {
		return // a second call while holding: ignored, as net/http would
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.rw.WriteHeader(code)
		return
	}
	w.status = code
	if checkable(w.rw.Header(), code) {
		w.holding = true
		return
	}
	w.pass()
}

// checkable says whether a response with header h and status code is an
// uncompressed HTML document with a body.
func checkable(h http.Header, code int) bool {
	if code == http.StatusNoContent || code == http.StatusNotModified || code == http.StatusSwitchingProtocols {
		return false
	}
	if h.Get("Content-Encoding") != "" && !strings.EqualFold(h.Get("Content-Encoding"), "identity") {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "text/html"
}

// pass stops holding: what was held goes out and the rest streams.
func (w *writer) pass() {
	if w.passing {
		return
	}
	w.passing, w.holding = true, false
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.rw.WriteHeader(w.status)
	if w.buf.Len() > 0 {
		w.rw.Write(w.buf.Bytes()) // an error shows again on the next Write
		w.buf = bytes.Buffer{}
	}
}

func (w *writer) Write(p []byte) (int, error) {
	if w.passing || w.hijacked {
		return w.rw.Write(p)
	}
	if w.status == 0 {
		h := w.rw.Header()
		if _, ok := h["Content-Type"]; !ok && len(p) > 0 {
			// What net/http would do on this first write.
			h.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
		if w.passing {
			return w.rw.Write(p)
		}
	}
	if int64(w.buf.Len()+len(p)) > w.max {
		w.pass()
		return w.rw.Write(p)
	}
	return w.buf.Write(p)
}

// Flush gives up checking and streams.
func (w *writer) Flush() {
	w.pass()
	_ = http.NewResponseController(w.rw).Flush() // a writer that cannot flush buffers; nothing to do
}

// Hijack hands the connection over; nothing held is sent.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
		w.holding, w.buf = false, bytes.Buffer{}
	}
	return c, brw, err
}

// Unwrap gives http.ResponseController the underlying writer (deadlines).
func (w *writer) Unwrap() http.ResponseWriter { return w.rw }

// finish checks a held document and sends it.
func (w *writer) finish(r *http.Request, l *slog.Logger) {
	if w.passing || w.hijacked {
		return
	}
	if !w.holding {
		if w.status == 0 {
			return // nothing written: net/http sends the empty 200
		}
		w.pass()
		return
	}
	body := w.buf.Bytes()
	problems := Check(body)
	h := w.rw.Header()
	if len(problems) > 0 {
		for _, p := range problems {
			l.Warn("html problem", "method", r.Method, "path", r.URL.Path, "line", p.Line, "problem", p.Message)
		}
		body = append(body, Comment(problems)...)
		h.Del("ETag") // the body changed
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.rw.WriteHeader(w.status)
	w.rw.Write(body) // the client may be gone; nothing to tell
}

// Comment renders problems as an HTML comment to append to a document.
func Comment(problems []Problem) []byte {
	var b strings.Builder
	b.WriteString("\n<!-- validate: ")
	b.WriteString(strconv.Itoa(len(problems)))
	if len(problems) == 1 {
		b.WriteString(" problem\n")
	} else {
		b.WriteString(" problems\n")
	}
	for _, p := range problems {
		b.WriteString("  ")
		// A comment may not contain "--"; keep the text readable anyway.
		text := p.String()
		for strings.Contains(text, "--") {
			text = strings.ReplaceAll(text, "--", "- -")
		}
		b.WriteString(text)
		b.WriteByte('\n')
	}
	b.WriteString("-->\n")
	return []byte(b.String())
}

var (
	_ http.Flusher  = (*writer)(nil)
	_ http.Hijacker = (*writer)(nil)
)
