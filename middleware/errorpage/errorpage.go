// Package errorpage catches what goes wrong in the handlers below it:
// panics (except http.ErrAbortHandler, which is re-panicked at once) and
// errors a handler reports with [Report].
//
// With Debug set, the client gets an HTML page showing the panic value,
// the goroutine's stack with a few lines of source around each frame of
// the application, the request (method, URL, headers, form, cookies) and
// the loaded config, with the values of secret-looking keys masked. Without
// Debug, the client gets a plain 500 page (or the configured template)
// that names a request id, and the full report is logged under that id and
// optionally mailed, as Paste's ErrorMiddleware did.
//
// When the response had already started, no page can be shown: the report
// is logged (and mailed) and the response is aborted with
// http.ErrAbortHandler so that the client sees a broken response rather
// than a complete-looking one.
//
// On the happy path the filter adds no allocation: its response writer
// comes from a pool.
package errorpage

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gopaste/gopaste/middleware/requestid"

	"github.com/gopaste/gopaste/internal/started"
)

// Options configure the filter. The zero value shows a plain 500 page and
// logs reports to slog.Default().
type Options struct {
	// Debug shows the full report to the client. Never set it where
	// untrusted clients can reach the server.
	Debug bool
	// Template, when set, renders the non-debug error page. It is
	// executed with a [PageData].
	Template *template.Template
	// Logger gets every report; nil means slog.Default().
	Logger *slog.Logger
	// Config returns the loaded configuration to show (masked) in
	// reports, as named groups of keys; nil shows none.
	Config func(r *http.Request) map[string]map[string]string
	// Mail, when set, mails each report (not in Debug mode, as Paste).
	Mail *Mail
	// Context is the number of source lines shown either side of each
	// application frame; zero means 3.
	Context int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// PageData is what Options.Template is executed with.
type PageData struct {
	Status     int
	StatusText string
	RequestID  string
}

// New returns the filter.
func New(o Options) (func(http.Handler) http.Handler, error) {
	if o.Context < 0 || o.Context > 50 {
		return nil, fmt.Errorf("errorpage: source context %d out of range 0..50", o.Context)
	}
	if o.Context == 0 {
		o.Context = 3
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Mail != nil {
		if err := o.Mail.validate(); err != nil {
			return nil, err
		}
	}
	return func(next http.Handler) http.Handler {
		return &handler{o: &o, next: next}
	}, nil
}

type handler struct {
	o    *Options
	next http.Handler
}

var writerPool = sync.Pool{New: func() any { return new(writer) }}

func (h *handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := writerPool.Get().(*writer)
	*w = writer{Writer: started.Writer{ResponseWriter: rw}, h: h}
	defer h.recover(w, r)
	h.next.ServeHTTP(w, r)
}

// recover runs deferred: on the happy path it only returns the writer to
// the pool.
func (h *handler) recover(w *writer, r *http.Request) {
	v := recover()
	if v == nil {
		*w = writer{}
		writerPool.Put(w)
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	// The writer is not returned to the pool: the handler may still
	// hold it after a panic.
	rep := h.newReport(r, v, true, callers(4))
	h.handle(w, r, rep)
	if w.Started && !rep.rendered {
		panic(http.ErrAbortHandler)
	}
}

// handle logs and mails rep and, when the response has not started,
// writes the error page.
func (h *handler) handle(w *writer, r *http.Request, rep *report) {
	h.log(r, rep)
	if !w.Started {
		w.Started = true
		rep.rendered = true
		h.render(w.ResponseWriter, r, rep)
		// Let the client have its page before a slow mail server is
		// tried; an error means there is no flusher (or no client).
		http.NewResponseController(w.ResponseWriter).Flush()
	}
	if h.o.Mail != nil && !h.o.Debug {
		if err := h.o.Mail.send(r.Context(), rep); err != nil {
			h.o.Logger.ErrorContext(r.Context(), "error report not mailed", "request_id", rep.ID, "err", err)
		}
	}
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, rep *report) {
	hd := w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "Etag", "Last-Modified", "Content-Disposition"} {
		hd.Del(k)
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusInternalServerError)
	if r.Method == http.MethodHead {
		return
	}
	var err error
	switch {
	case h.o.Debug:
		err = debugPage().Execute(w, rep)
	case h.o.Template != nil:
		err = h.o.Template.Execute(w, PageData{Status: 500, StatusText: http.StatusText(500), RequestID: rep.ID})
	default:
		err = plainPage().Execute(w, PageData{Status: 500, StatusText: http.StatusText(500), RequestID: rep.ID})
	}
	if err != nil {
		h.o.Logger.ErrorContext(r.Context(), "error page not written", "request_id", rep.ID, "err", err)
	}
}

func (h *handler) log(r *http.Request, rep *report) {
	msg := "handler error"
	if rep.Panic {
		msg = "handler panic"
	}
	h.o.Logger.ErrorContext(r.Context(), msg,
		"request_id", rep.ID,
		"method", rep.Request.Method,
		"path", rep.Request.Path,
		"remote_addr", rep.Request.RemoteAddr,
		"err", rep.Title,
		"report", rep.Text())
}

// Report reports err for the request r from a handler running below the
// errors filter: the filter logs (and mails) it and, when the response
// has not started, answers with its error page. The handler should return
// after calling it. Without an errors filter above, Report logs err to
// slog.Default() and answers a plain 500.
func Report(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		err = errors.New("errorpage: Report called with a nil error")
	}
	for cur := w; cur != nil; {
		if ew, ok := cur.(*writer); ok {
			ew.h.handle(ew, r, ew.h.newReport(r, err, false, callers(3)))
			return
		}
		u, ok := cur.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		cur = u.Unwrap()
	}
	slog.Default().ErrorContext(r.Context(), "handler error", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, http.StatusText(500), 500)
}

// requestID returns the request's id, from the requestid filter when it
// runs above, else a new one.
func requestID(r *http.Request) string {
	if id := requestid.From(r.Context()); id != "" {
		return id
	}
	return requestid.Generate()
}

// writer notes whether the response has started.
type writer struct {
	started.Writer
	h *handler
}
