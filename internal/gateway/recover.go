package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
)

// ErrAborted is what Run returns when the reply cannot be completed: the
// handler panicked after the head was sent, or panicked with
// http.ErrAbortHandler. The server then ends the connection (or, on a
// multiplexed FastCGI connection, the request) without finishing the
// reply, so that the web server does not take a cut reply for a whole one.
var ErrAborted = errors.New("gateway: handler aborted the reply")

// RequestIDHeader is where Run finds the request id it logs with a
// panic: the reply's header (the requestid filter sets it there), else
// the request's (a web server such as nginx may send $request_id).
const RequestIDHeader = "X-Request-Id"

// Run calls h and recovers a panic. Nothing sent yet: the reply becomes a
// 500 (the request id header is kept) and Run returns nil, so the server
// finishes it as usual. Head already sent, or a panic with
// http.ErrAbortHandler: ErrAborted. Every panic but http.ErrAbortHandler
// is logged at Error with the method, path, request id and stack.
func Run(h http.Handler, w *Writer, r *http.Request, log *slog.Logger) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			err = ErrAborted
			return
		}
		stack := make([]byte, 16<<10)
		stack = stack[:runtime.Stack(stack, false)]
		id := w.Header().Get(RequestIDHeader)
		if id == "" {
			id = r.Header.Get(RequestIDHeader)
		}
		if log == nil {
			log = slog.Default()
		}
		log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "request_id", id,
			"err", fmt.Sprint(p), "stack", string(stack))
		if !w.Error(http.StatusInternalServerError) {
			err = ErrAborted
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}
