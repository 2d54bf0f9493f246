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
// compressed answer. It decides once the headers are known:
//
//   - a response that declares a Content-Length below the minimum size,
//     or a Content-Encoding or Content-Range, goes straight to the
//     connection's writer with "Vary: Accept-Encoding" added, as gzhttp
//     would send it, without gzhttp's setup, buffering and header checks;
//   - a response of unknown length is held until it reaches the minimum
//     size: one that ends shorter goes out as above;
//   - any other response goes through gzhttp's writer (the held bytes
//     first), which decides the rest (type, gzip or zstd).
//
// gzhttp only offers its writer inside the handler its wrapper calls, so
// for the last case the gate runs that wrapper on a goroutine of its own,
// takes its writer, and lets the wrapper return (closing the writer) when
// the handler is done. The two goroutines never run at once: each waits
// on a channel while the other works. That costs about 2µs, next to the
// compression of at least min_size bytes.
type gate struct {
	raw        http.ResponseWriter
	r          *http.Request
	min        int
	compressed http.Handler

	to   http.ResponseWriter // nil until decided
	code int                 // a status held while undecided
	buf  []byte              // bytes held while undecided; kept in the pool

	gz       http.ResponseWriter // gzhttp's writer, once started
	ready    chan struct{}       // closed when gz is set
	done     chan struct{}       // closed when the handler is done
	stopped  chan struct{}       // closed when gzhttp's wrapper has returned
	panicked any                 // what the wrapper's goroutine panicked with
}

type gateKey struct{}

var gatePool = sync.Pool{New: func() any { return new(gate) }}

// plainOrLarge reads the headers: plain when the answer must go out as it
// is, large when it declares a length of at least the minimum size.
func (g *gate) plainOrLarge() (plain, large bool) {
	h := g.raw.Header()
	if len(h["Content-Encoding"]) > 0 || len(h["Content-Range"]) > 0 {
		return true, false
	}
	if cl := h["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.Atoi(cl[0]); err == nil && n >= 0 {
			return n < g.min, n >= g.min
		}
	}
	return false, false
}

// goPlain sends the answer past gzhttp: Vary, then what was held.
func (g *gate) goPlain() error {
	h := g.raw.Header()
	h.Add("Vary", "Accept-Encoding")
	delete(h, gzhttp.HeaderNoCompression) // gzhttp drops it too
	g.to = g.raw
	if g.code != 0 {
		g.raw.WriteHeader(g.code)
	}
	if len(g.buf) > 0 {
		_, err := g.raw.Write(g.buf)
		g.buf = g.buf[:0]
		return err
	}
	return nil
}

// goCompressed starts gzhttp's writer and hands it what was held.
func (g *gate) goCompressed() error {
	g.start()
	g.to = g.gz
	if g.code != 0 {
		g.gz.WriteHeader(g.code)
	}
	if len(g.buf) > 0 {
		_, err := g.gz.Write(g.buf)
		g.buf = g.buf[:0]
		return err
	}
	return nil
}

// decide chooses by the headers alone: false when they do not tell.
func (g *gate) decide() (bool, error) {
	switch plain, large := g.plainOrLarge(); {
	case plain:
		return true, g.goPlain()
	case large:
		return true, g.goCompressed()
	}
	return false, nil
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
// holds) when it was started; an undecided answer, shorter than the
// minimum, goes out as it is.
func (g *gate) finish() {
	var panicked any
	switch {
	case g.gz != nil:
		close(g.done)
		<-g.stopped
		panicked = g.panicked
	case g.to == nil:
		g.goPlain()
	}
	buf := g.buf[:0]
	*g = gate{buf: buf}
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
	if g.to != nil {
		g.to.WriteHeader(code)
		return
	}
	if g.code == 0 {
		g.code = code
	}
	g.decide()
}

func (g *gate) Write(b []byte) (int, error) {
	if g.to == nil {
		if ok, err := g.decide(); err != nil {
			return 0, err
		} else if !ok {
			if len(g.buf)+len(b) < g.min {
				g.buf = append(g.buf, b...)
				return len(b), nil
			}
			if err := g.goCompressed(); err != nil {
				return 0, err
			}
		}
	}
	return g.to.Write(b)
}

// Unwrap gives http.ResponseController the chosen writer, or the
// connection's before the gate has decided.
func (g *gate) Unwrap() http.ResponseWriter {
	if g.to != nil {
		return g.to
	}
	return g.raw
}

func (g *gate) Flush() { g.FlushError() }

// FlushError sends what was held: through gzhttp unless the headers say
// otherwise (gzhttp too compresses a flushed answer of unknown length).
func (g *gate) FlushError() error {
	if g.to == nil {
		if ok, err := g.decide(); err != nil {
			return err
		} else if !ok {
			if err := g.goCompressed(); err != nil {
				return err
			}
		}
	}
	return http.NewResponseController(g.to).Flush()
}

func (g *gate) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(g.Unwrap()).Hijack()
}
