package cache

import (
	"bufio"
	"net"
	"net/http"
)

// recorder stands between the handler and the client on a miss: it passes
// the response on while keeping a copy of its header and up to limit bytes
// of its body. With intercept, a 304 (the answer to the cache's own
// revalidation) is held back instead.
type recorder struct {
	w         http.ResponseWriter
	h         http.Header // the handler's header map
	limit     int64
	intercept bool

	status   int
	snap     http.Header // h when the status was chosen, if cacheable
	held     bool        // a 304 held back
	buf      []byte
	over     bool // body passed limit: not stored
	hijacked bool
}

func (rec *recorder) Header() http.Header { return rec.h }

func (rec *recorder) WriteHeader(code int) {
	if rec.status != 0 || rec.hijacked {
		return // as net/http: a second WriteHeader is ignored
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		rec.copyHeader()
		rec.w.WriteHeader(code)
		return
	}
	rec.status = code
	if rec.intercept && code == http.StatusNotModified {
		rec.held = true
		rec.snap = rec.h.Clone()
		return
	}
	if cacheableStatus(code) {
		rec.snap = rec.h.Clone()
	}
	rec.copyHeader()
	rec.w.Header()["X-Cache"] = missValue[:1:1]
	rec.w.WriteHeader(code)
}

func (rec *recorder) copyHeader() {
	dst := rec.w.Header()
	for k, v := range rec.h {
		dst[k] = v
	}
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.held {
		return len(p), nil // a 304 has no body
	}
	if !rec.over && rec.snap != nil {
		if int64(len(rec.buf))+int64(len(p)) > rec.limit {
			rec.over, rec.buf = true, nil
		} else {
			rec.buf = append(rec.buf, p...)
		}
	}
	return rec.w.Write(p)
}

// finish sends the header when the handler wrote nothing.
func (rec *recorder) finish() {
	if rec.status == 0 && !rec.hijacked {
		rec.WriteHeader(http.StatusOK)
	}
}

// Flush sends what the handler wrote so far; streaming stays streaming.
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.held {
		return
	}
	_ = http.NewResponseController(rec.w).Flush() // a writer that cannot flush buffers; nothing to do
}

// Hijack hands the connection over; the response is then not stored.
func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(rec.w).Hijack()
	if err == nil {
		rec.hijacked = true
	}
	return c, brw, err
}

// Unwrap lets http.ResponseController reach deadlines.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.w }

var (
	_ http.Flusher  = (*recorder)(nil)
	_ http.Hijacker = (*recorder)(nil)
)
