package compress

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/klauspost/compress/gzhttp"
)

// gate sits between the handler and gzhttp's writer and decides, when the
// handler starts its response, whether gzhttp needs to see it at all: a
// response that declares a Content-Length below the minimum size, or a
// Content-Encoding or Content-Range, goes straight to the connection's
// writer, without gzhttp's buffering and header checks (which would pass
// it through unchanged anyway). Any other response goes through gzhttp.
type gate struct {
	gz, raw http.ResponseWriter
	to      http.ResponseWriter // nil until decided
	min     int
}

var gatePool = sync.Pool{New: func() any { return new(gate) }}

// target decides once and returns the writer to use.
func (g *gate) target() http.ResponseWriter {
	if g.to != nil {
		return g.to
	}
	g.to = g.gz
	h := g.raw.Header()
	if len(h["Content-Encoding"]) > 0 || len(h["Content-Range"]) > 0 {
		g.to = g.raw
	} else if cl := h["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.Atoi(cl[0]); err == nil && n >= 0 && n < g.min {
			g.to = g.raw
		}
	}
	if g.to == g.raw {
		delete(h, gzhttp.HeaderNoCompression) // gzhttp would drop it too
	}
	return g.to
}

func (g *gate) Header() http.Header { return g.raw.Header() }

func (g *gate) WriteHeader(code int) {
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		g.raw.WriteHeader(code) // informational: decide on the final answer
		return
	}
	g.target().WriteHeader(code)
}

func (g *gate) Write(b []byte) (int, error) { return g.target().Write(b) }

// Unwrap gives http.ResponseController gzhttp's writer until the gate
// has decided, the chosen writer after.
func (g *gate) Unwrap() http.ResponseWriter {
	if g.to != nil {
		return g.to
	}
	return g.gz
}

func (g *gate) Flush() {
	http.NewResponseController(g.target()).Flush()
}

func (g *gate) FlushError() error {
	return http.NewResponseController(g.target()).Flush()
}

func (g *gate) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(g.Unwrap()).Hijack()
}
