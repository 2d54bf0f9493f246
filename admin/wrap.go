package admin

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gopaste/gopaste/mount"
)

// Wrap returns next counting every request in the series of its mount:
// the script name of the deepest mount a composite such as urlmap moved
// the request to ([mount.Tracker]), "/" for a request no mount took. The
// server applies it, outside its concurrency limit, when the admin key is
// set; the cost is a few atomic adds and three small allocations per
// request (see BenchmarkWrap).
func (h *Hub) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := h.now()
		rec := &recorder{ResponseWriter: w}
		returned := false
		defer func() {
			// Without recover: a panicking handler's stack stays the
			// one the server logs; it counts as a 500.
			if !returned {
				rec.status = http.StatusInternalServerError
			}
			h.observe(rec, start)
		}()
		next.ServeHTTP(rec, r.WithContext(mount.Track(r.Context(), &rec.mount)))
		returned = true
	})
}

func (h *Hub) observe(rec *recorder, start time.Time) {
	end := h.now()
	name := rec.mount.ScriptName()
	if name == "" {
		name = "/"
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK // nothing written: the server sends 200
	}
	h.Stats.Mount(name).Observe(end, status, end.Sub(start))
}

// recorder notes the status of the response and carries the request's
// mount tracker in the same allocation.
type recorder struct {
	http.ResponseWriter
	status int
	mount  mount.Tracker
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps the underlying writer's sendfile path for io.Copy.
func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush serves handlers that assert http.Flusher.
func (w *recorder) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush() // no flusher: nothing to do
}

// Hijack serves handlers that assert http.Hijacker (websockets).
func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

var (
	_ http.Flusher  = (*recorder)(nil)
	_ http.Hijacker = (*recorder)(nil)
	_ io.ReaderFrom = (*recorder)(nil)
)
