package compress

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/klauspost/compress/gzhttp"
)

// gate is the writer the handler gets when the client accepts a
// compressed answer. It decides when the handler starts its response
// (the first WriteHeader, Write or Flush), once the headers are known:
//
//   - a response that declares a Content-Length below the minimum size,
//     or a Content-Encoding or Content-Range, goes straight to the
//     connection's writer with "Vary: Accept-Encoding" added, as gzhttp
//     would send it, without gzhttp's setup, buffering and header checks;
//   - any other response goes through gzhttp's writer, which decides the
//     rest (size, type, gzip or zstd).
//
// gzhttp only offers its writer inside the handler its wrapper calls, so
// for the second case the gate runs that wrapper on a goroutine of its
// own, takes its writer, and lets the wrapper return (closing the writer)
// when the handler is done. The two goroutines never run at once: each
// waits on a channel while the other works. The goroutine costs about a
// microsecond, next to the compression of at least min_size bytes.
type gate struct {
	raw        http.ResponseWriter
	r          *http.Request
	min        int
	compressed http.Handler

	to       http.ResponseWriter // nil until decided
	gz       http.ResponseWriter // gzhttp's writer, once started
	ready    chan struct{}       // closed when gz is set
	done     chan struct{}       // closed when the handler is done
	stopped  chan struct{}       // closed when gzhttp's wrapper has returned
	panicked any                 // what the wrapper's goroutine panicked with
}

type gateKey struct{}

var gatePool = sync.Pool{New: func() any { return new(gate) }}

// target decides once and returns the writer to use.
func (g *gate) target() http.ResponseWriter {
	if g.to != nil {
		return g.to
	}
	h := g.raw.Header()
	plain := len(h["Content-Encoding"]) > 0 || len(h["Content-Range"]) > 0
	if cl := h["Content-Length"]; !plain && len(cl) == 1 {
		n, err := strconv.Atoi(cl[0])
		plain = err == nil && n >= 0 && n < g.min
	}
	if plain {
		h.Add("Vary", "Accept-Encoding")
		delete(h, gzhttp.HeaderNoCompression) // gzhttp drops it too
		g.to = g.raw
		return g.to
	}
	g.start()
	g.to = g.gz
	return g.to
}

// start runs gzhttp's wrapper until its handler has handed over the writer.
func (g *gate) start() {
	g.ready, g.done, g.stopped = make(chan struct{}), make(chan struct{}), make(chan struct{})
	r := g.r.WithContext(context.WithValue(g.r.Context(), gateKey{}, g))
	go func() {
		defer close(g.stopped)
		defer func() {
			// Raised again on the handler's goroutine, where net/http
			// (or a recovering filter) can deal with it.
			if v := recover(); v != nil {
				g.panicked = v
			}
		}()
		g.compressed.ServeHTTP(g.raw, r)
	}()
	select {
	case <-g.ready:
	case <-g.stopped:
		panic(g.panicked)
	}
}

// finish ends the response: gzhttp's writer is closed (flushing what it
// holds) when it was started, "Vary" added when nothing was decided.
func (g *gate) finish() {
	var panicked any
	switch {
	case g.gz != nil:
		close(g.done)
		<-g.stopped
		panicked = g.panicked
	case g.to == nil:
		g.raw.Header().Add("Vary", "Accept-Encoding")
	}
	*g = gate{}
	gatePool.Put(g)
	if panicked != nil {
		panic(panicked)
	}
}

func (g *gate) Header() http.Header { return g.raw.Header() }

func (g *gate) WriteHeader(code int) {
	if code >= 100 && code <= 199 {
		g.raw.WriteHeader(code) // informational: gzhttp passes it on too
		return
	}
	g.target().WriteHeader(code)
}

func (g *gate) Write(b []byte) (int, error) { return g.target().Write(b) }

// Unwrap gives http.ResponseController the chosen writer, or the
// connection's before the gate has decided.
func (g *gate) Unwrap() http.ResponseWriter {
	if g.to != nil {
		return g.to
	}
	return g.raw
}

func (g *gate) Flush() { g.FlushError() }

func (g *gate) FlushError() error {
	return http.NewResponseController(g.target()).Flush()
}

func (g *gate) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(g.Unwrap()).Hijack()
}
