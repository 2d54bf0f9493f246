package server

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
)

// Swap is a handler whose target can be replaced atomically while serving:
// requests already running finish on the handler they started with. Live
// reload uses it. The zero value answers 503 until Store is called.
type Swap struct {
	h atomic.Pointer[http.Handler]
}

// NewSwap returns a Swap serving h.
func NewSwap(h http.Handler) *Swap {
	s := &Swap{}
	s.Store(h)
	return s
}

// Store makes h the handler for requests that start from now on.
func (s *Swap) Store(h http.Handler) { s.h.Store(&h) }

// Load returns the current handler.
func (s *Swap) Load() http.Handler {
	if p := s.h.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Swap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := s.Load()
	if h == nil {
		http.Error(w, "503 Service Unavailable: starting", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// ConnContext lets the current handler, when it has a ConnContext method,
// set up the context of a new connection (see http.Server.ConnContext).
func (s *Swap) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := s.Load().(connContexter); ok {
		return cc.ConnContext(ctx, c)
	}
	return ctx
}

// connContexter is a handler that prepares each connection's context.
type connContexter interface {
	ConnContext(ctx context.Context, c net.Conn) context.Context
}
