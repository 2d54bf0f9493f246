package wsgi

import (
	"bufio"
	"net"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/middleware/errorpage"
)

// errorHeader marks the 500 reply a worker makes of an exception raised
// before the application's reply began: its body is the traceback and
// the header's value is the App's token, which no application knows.
const errorHeader = "X-Gopaste-Wsgi-Error"

// maxTraceback bounds the traceback kept from such a reply.
const maxTraceback = 64 << 10

// AppError is an exception a WSGI application raised before its reply
// began. The App reports it with [errorpage.Report]: the errors filter,
// when above, logs it with the request and shows the traceback only in
// its debug mode; without the filter it is logged and the client gets a
// plain 500.
type AppError struct {
	Method, Path string
	// Traceback is the Python traceback, as traceback.format_exc()
	// wrote it.
	Traceback string
}

func (e *AppError) Error() string {
	return "wsgi: " + e.Method + " " + e.Path + ": the application raised an exception:\n" + strings.TrimRight(e.Traceback, "\n")
}

// errorWriter passes a worker's reply through, except the marked 500 of
// an exception, whose traceback it keeps for report.
type errorWriter struct {
	http.ResponseWriter
	token  string
	caught bool
	tb     strings.Builder
}

func (e *errorWriter) WriteHeader(code int) {
	h := e.Header()
	if code == http.StatusInternalServerError && len(h[errorHeader]) > 0 {
		mark := h.Get(errorHeader)
		delete(h, errorHeader) // never to the client, forged or not
		if mark == e.token {
			// The worker's own headers of that reply; the report's page
			// sets its own.
			h.Del("Content-Type")
			h.Del("Content-Length")
			e.caught = true
			return
		}
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *errorWriter) Write(b []byte) (int, error) {
	if !e.caught {
		return e.ResponseWriter.Write(b)
	}
	if n := maxTraceback - e.tb.Len(); n > 0 {
		e.tb.Write(b[:min(len(b), n)])
	}
	return len(b), nil
}

// FlushError flushes the reply, except a caught one (a flush would send
// its status).
func (e *errorWriter) FlushError() error {
	if e.caught {
		return nil
	}
	return http.NewResponseController(e.ResponseWriter).Flush()
}

// Hijack is the underlying writer's.
func (e *errorWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(e.ResponseWriter).Hijack()
}

func (e *errorWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// report answers a caught exception through the errors filter.
func (e *errorWriter) report(r *http.Request) {
	if e.caught {
		errorpage.Report(e.ResponseWriter, r, &AppError{Method: r.Method, Path: r.URL.Path, Traceback: e.tb.String()})
	}
}
