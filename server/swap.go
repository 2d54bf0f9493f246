package server

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Swap is a handler whose target can be replaced atomically while serving:
// requests already running finish on the handler they started with. Live
// reload uses it. Swap counts the requests running on each handler it
// stored, so the caller learns when a replaced handler is idle and may
// release its resources. The zero value answers 503 until Store is called.
// A Swap is safe for concurrent use.
type Swap struct {
	cur atomic.Pointer[slot]
}

// slot is one stored handler and the count of its running requests. The
// count's retiredBit is set once a newer handler is stored; from then on
// no request starts on it, and idle is closed when the count drops to 0.
type slot struct {
	h         http.Handler
	n         atomic.Int64
	idle      chan struct{}
	closeIdle sync.Once
}

const retiredBit = 1 << 62

// NewSwap returns a Swap serving h.
func NewSwap(h http.Handler) *Swap {
	s := &Swap{}
	s.Store(h)
	return s
}

// Store makes h the handler for requests that start from now on. It
// returns a channel that is closed once the last request running on the
// previous handler is done (at once when none runs, or when there was no
// previous handler).
func (s *Swap) Store(h http.Handler) (idle <-chan struct{}) {
	old := s.cur.Swap(&slot{h: h, idle: make(chan struct{})})
	if old == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	if old.n.Add(retiredBit) == retiredBit {
		old.closeIdle.Do(func() { close(old.idle) })
	}
	return old.idle
}

// Load returns the current handler.
func (s *Swap) Load() http.Handler {
	if sl := s.cur.Load(); sl != nil {
		return sl.h
	}
	return nil
}

func (s *Swap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sl := s.acquire()
	if sl == nil {
		http.Error(w, "503 Service Unavailable: starting", http.StatusServiceUnavailable)
		return
	}
	defer sl.release() // also when the handler panics
	sl.h.ServeHTTP(w, r)
}

// acquire counts a request on the current slot and returns it; nil when
// nothing is stored.
func (s *Swap) acquire() *slot {
	for {
		sl := s.cur.Load()
		if sl == nil || sl.n.Add(1)&retiredBit == 0 {
			return sl
		}
		// Replaced between Load and Add: the newer slot is stored
		// already, so the next round counts the request there.
		sl.release()
	}
}

func (sl *slot) release() {
	if sl.n.Add(-1) == retiredBit {
		sl.closeIdle.Do(func() { close(sl.idle) })
	}
}

// ConnContext lets the current handler, when it has a ConnContext method,
// set up the context of a new connection (see http.Server.ConnContext).
func (s *Swap) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := s.Load().(ConnContexter); ok {
		return cc.ConnContext(ctx, c)
	}
	return ctx
}

// ConnContexter is a handler that prepares each connection's context, as
// http.Server.ConnContext does; the HTTP protocol and [Swap] call it. An
// app deploy built has one (see deploy.ConnContext): its config goes into
// the connection's context once instead of into every request.
type ConnContexter interface {
	ConnContext(ctx context.Context, c net.Conn) context.Context
}
