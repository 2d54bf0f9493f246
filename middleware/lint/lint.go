// Package lint checks, at run time, that a handler keeps the
// http.ResponseWriter contract, as Paste's paste.lint checked WSGI
// applications.
//
// The checks:
//
//   - WriteHeader called twice with a final status (1xx informational
//     responses may precede the final one);
//   - an invalid status code (outside 100–599);
//   - a Write after the connection was hijacked, or after the handler
//     returned;
//   - a body on a HEAD request or on a 204 or 304 response;
//   - a Content-Length header that does not match the bytes written;
//   - hop-by-hop headers set by the application (Connection, Keep-Alive,
//     Proxy-Authenticate, Proxy-Authorization, TE, Transfer-Encoding,
//     Upgrade), except Connection and Upgrade on a 101 response;
//   - a body without a Content-Type header (net/http would sniff one; a
//     header set to nil, which turns sniffing off, counts as deliberate).
//
// Each violation is logged with slog (component=lint) or reported to a
// function. With Strict, a violation seen before the response header went
// out is answered with 500 instead of the handler's response.
//
// Like net/http, the wrapper holds the header until the first Write,
// Flush, Hijack or the handler's return, so strict mode can still replace
// it. Flush, Hijack and deadlines pass through (Unwrap and
// http.ResponseController).
//
// [Wrap] runs a handler under lint in another package's tests, turning
// each violation into a test error.
package lint

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Rule names a kind of violation.
type Rule string

// The rules lint checks.
const (
	RuleWriteHeaderTwice   Rule = "writeheader-twice"
	RuleInvalidStatus      Rule = "invalid-status"
	RuleWriteAfterHijack   Rule = "write-after-hijack"
	RuleWriteAfterReturn   Rule = "write-after-return"
	RuleBodyNotAllowed     Rule = "body-not-allowed"
	RuleContentLength      Rule = "content-length"
	RuleHopByHop           Rule = "hop-by-hop-header"
	RuleMissingContentType Rule = "missing-content-type"
)

// Violation is one breach of the handler contract.
type Violation struct {
	Rule    Rule
	Message string
}

func (v Violation) String() string { return string(v.Rule) + ": " + v.Message }

// Options configure the lint middleware. The zero value logs violations
// to slog.Default().
type Options struct {
	// Strict answers 500 when a violation is found while the response
	// header can still be replaced.
	Strict bool

	// Logger receives violations as warnings; nil means slog.Default().
	// The logger gets component=lint added.
	Logger *slog.Logger

	// Report, when set, is called for each violation instead of logging
	// it. It may be called from the handler's goroutine or, for writes
	// after return, from any goroutine.
	Report func(r *http.Request, v Violation)
}

// New returns the lint middleware.
func New(o Options) func(http.Handler) http.Handler {
	report := o.Report
	if report == nil {
		l := o.Logger
		if l == nil {
			l = slog.Default()
		}
		l = l.With("component", "lint")
		report = func(r *http.Request, v Violation) {
			l.Warn("handler contract violated", "rule", string(v.Rule), "method", r.Method, "path", r.URL.Path, "problem", v.Message)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lw := &writer{rw: w, req: r, report: report, strict: o.Strict}
			defer lw.finish()
			next.ServeHTTP(lw, r)
		})
	}
}

// TB is the part of testing.TB that [Wrap] uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Wrap returns h under lint, each violation reported as t.Errorf. Use it in
// tests of handlers in any package:
//
//	rec := httptest.NewRecorder()
//	lint.Wrap(t, h).ServeHTTP(rec, req)
func Wrap(t TB, h http.Handler) http.Handler {
	return New(Options{Report: func(r *http.Request, v Violation) {
		t.Helper()
		t.Errorf("lint: %s %s: %s", r.Method, r.URL.Path, v)
	}})(h)
}

// hopByHop are the RFC 9110 §7.6.1 connection-specific headers an
// application must not set; net/http manages them.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Transfer-Encoding", "Upgrade",
}

// writer wraps the handler's ResponseWriter and checks each call. The
// mutex makes writes after return (from a stray goroutine) detectable
// without a data race in lint itself.
type writer struct {
	rw     http.ResponseWriter
	req    *http.Request
	report func(*http.Request, Violation)
	strict bool

	mu          sync.Mutex
	status      int  // final status chosen by the handler, 0 before
	sent        bool // header passed to rw
	failed      bool // strict mode replaced the response with a 500
	hijacked    bool
	done        bool
	written     int64
	declaredLen int64 // Content-Length at header time, -1 if none
	noCT        bool  // no Content-Type at header time
	bodyFlagged bool
	ctFlagged   bool
	overFlagged bool
}

func (w *writer) violate(rule Rule, format string, args ...any) {
	w.report(w.req, Violation{Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// fail answers 500 in strict mode when the header has not gone out; it
// reports whether it did.
func (w *writer) fail(v string) bool {
	if !w.strict || w.sent || w.hijacked {
		return false
	}
	w.failed, w.sent = true, true
	h := w.rw.Header()
	for k := range h {
		delete(h, k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.rw.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w.rw, "Internal Server Error\n\nlint: %s\n", v)
	return true
}

func (w *writer) Header() http.Header { return w.rw.Header() }

func (w *writer) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeader(code)
}

func (w *writer) writeHeader(code int) {
	if w.done {
		w.violate(RuleWriteAfterReturn, "WriteHeader(%d) after the handler returned", code)
		return
	}
	if w.hijacked {
		w.violate(RuleWriteAfterHijack, "WriteHeader(%d) after Hijack", code)
		return
	}
	if w.failed {
		return
	}
	if code < 100 || code > 599 {
		v := fmt.Sprintf("status code %d is outside 100-599", code)
		w.violate(RuleInvalidStatus, "%s", v)
		if w.fail(v) {
			return
		}
		if code < 100 || code > 999 {
			code = http.StatusInternalServerError // net/http would panic
		}
	}
	if w.status != 0 {
		w.violate(RuleWriteHeaderTwice, "WriteHeader(%d) after WriteHeader(%d)", code, w.status)
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational: goes out now, the final status comes later.
		w.rw.WriteHeader(code)
		return
	}
	w.status = code
	w.checkHeader()
}

// checkHeader looks at the header as it is when the status is chosen.
func (w *writer) checkHeader() {
	h := w.rw.Header()
	var bad []string
	for _, k := range hopByHop {
		if _, ok := h[k]; !ok {
			continue
		}
		if w.status == http.StatusSwitchingProtocols && (k == "Connection" || k == "Upgrade") {
			continue
		}
		if k == "Connection" && len(h[k]) == 1 && strings.EqualFold(h[k][0], "close") {
			// net/http's documented way for a handler to end the
			// connection after this response (after refusing a body).
			continue
		}
		bad = append(bad, k)
	}
	for _, k := range bad {
		v := fmt.Sprintf("hop-by-hop header %s set by the application", k)
		w.violate(RuleHopByHop, "%s", v)
		w.fail(v) // once; the others are still reported
	}
	if w.failed {
		return
	}
	w.declaredLen = -1
	if cl, ok := h["Content-Length"]; ok && len(cl) > 0 {
		n, err := strconv.ParseInt(cl[0], 10, 64)
		if err != nil || n < 0 || len(cl) > 1 {
			v := fmt.Sprintf("Content-Length %q is not a single non-negative integer", cl)
			w.violate(RuleContentLength, "%s", v)
			if w.fail(v) {
				return
			}
		} else {
			w.declaredLen = n
		}
	}
	_, hasCT := h["Content-Type"]
	w.noCT = !hasCT
}

// sendHeader passes the held header on, once.
func (w *writer) sendHeader() {
	if w.sent {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
		w.checkHeader()
		if w.sent {
			return
		}
	}
	w.sent = true
	w.rw.WriteHeader(w.status)
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		w.violate(RuleWriteAfterReturn, "Write of %d bytes after the handler returned", len(p))
		return 0, http.ErrHandlerTimeout
	}
	if w.hijacked {
		w.violate(RuleWriteAfterHijack, "Write of %d bytes after Hijack", len(p))
		return 0, http.ErrHijacked
	}
	if w.failed {
		return len(p), nil
	}
	if w.status == 0 {
		w.status = http.StatusOK
		w.checkHeader()
		if w.failed {
			return len(p), nil
		}
	}
	if len(p) > 0 {
		if !w.bodyFlagged {
			var why string
			switch {
			case w.req.Method == http.MethodHead:
				why = "a body written in answer to HEAD"
			case w.status == http.StatusNoContent || w.status == http.StatusNotModified:
				why = fmt.Sprintf("a body written with status %d", w.status)
			}
			if why != "" {
				w.bodyFlagged = true
				w.violate(RuleBodyNotAllowed, "%s", why)
				if w.fail(why) {
					return len(p), nil
				}
			}
		}
		if w.noCT && !w.ctFlagged && w.status != http.StatusNoContent && w.status != http.StatusNotModified {
			w.ctFlagged = true
			v := "a body written without a Content-Type header"
			w.violate(RuleMissingContentType, "%s", v)
			if w.fail(v) {
				return len(p), nil
			}
		}
	}
	w.sendHeader()
	if w.failed {
		return len(p), nil
	}
	n, err := w.rw.Write(p)
	w.written += int64(n)
	if w.declaredLen >= 0 && w.written > w.declaredLen && !w.overFlagged && w.req.Method != http.MethodHead {
		w.overFlagged = true
		w.violate(RuleContentLength, "wrote more than the declared Content-Length %d", w.declaredLen)
	}
	return n, err
}

// Flush sends the held header and flushes the underlying writer.
func (w *writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hijacked || w.done {
		return
	}
	w.sendHeader()
	_ = http.NewResponseController(w.rw).Flush() // not every writer flushes; nothing to do then
}

// Hijack takes the connection over, remembering it so later writes are
// reported.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, brw, err
}

// Unwrap gives http.ResponseController the underlying writer for deadlines
// and other abilities lint does not watch.
func (w *writer) Unwrap() http.ResponseWriter { return w.rw }

// finish runs when the handler returns: it sends a held header and checks
// the body length against Content-Length.
func (w *writer) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hijacked || w.failed {
		w.done = true
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
		w.checkHeader()
	}
	if !w.failed {
		// Short body with a declared length: the client would wait for the
		// rest. Still possible to answer 500 only when nothing was written.
		if w.declaredLen >= 0 && w.written < w.declaredLen && w.req.Method != http.MethodHead &&
			w.status != http.StatusNoContent && w.status != http.StatusNotModified {
			v := fmt.Sprintf("Content-Length %d declared but %d bytes written", w.declaredLen, w.written)
			w.violate(RuleContentLength, "%s", v)
			w.fail(v)
		}
		w.sendHeader()
	}
	w.done = true
}

var (
	_ http.Flusher  = (*writer)(nil)
	_ http.Hijacker = (*writer)(nil)
)
