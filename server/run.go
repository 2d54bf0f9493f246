package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gopaste/gopaste/registry"
)

// Server runs one listener with one protocol (or "auto") and implements
// registry.Server. It is the building block of every server section.
type Server struct {
	Options Options
	Logger  *slog.Logger // nil means slog.Default()
	// Listener, when set, is served instead of opening Options.Listen; the
	// caller keeps ownership of it across reloads.
	Listener net.Listener
	// Ready, when set, is called with the listening address once the
	// listener is open.
	Ready func(addr net.Addr)
	// Registry holds the protocols served; nil means registry.Default.
	Registry *registry.Registry
}

// Run listens, serves h until ctx is done, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, h http.Handler) error {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	o := s.Options
	h = Limit(h, o)

	l := s.Listener
	if l == nil {
		var err error
		l, err = o.Listen.Listen(logger)
		if err != nil {
			return err
		}
	}
	logger.Info("listening", "protocol", o.Protocol, "addr", l.Addr().String(), "network", l.Addr().Network())
	// The admin listener (key admin) counts every request, queued ones too.
	h, stopAdmin := startAdmin(ctx, o.Admin, h, logger)
	defer stopAdmin()
	if s.Ready != nil {
		s.Ready(l.Addr())
	}

	reg := orDefault(s.Registry)
	var servers []Serving
	var listeners []net.Listener
	if o.Protocol == "auto" {
		sn := newSniffer(l, o.ReadTimeout, logger)
		for _, p := range reg.Protocols() {
			if p.Protocol.Sniff == nil {
				continue
			}
			srv, err := p.Protocol.New(h, o.protocolOptions(true), logger.With("protocol", p.Name))
			if err != nil {
				l.Close()
				return err
			}
			servers = append(servers, srv)
			listeners = append(listeners, sn.add(p.Protocol))
		}
		go sn.run()
	} else {
		p, ok := reg.Lookup(registry.ProtocolKind, o.Protocol)
		if !ok {
			l.Close()
			return fmt.Errorf("server: unknown protocol %q", o.Protocol)
		}
		srv, err := p.Protocol.New(h, o.protocolOptions(false), logger)
		if err != nil {
			l.Close()
			return err
		}
		servers = append(servers, srv)
		listeners = append(listeners, l)
	}

	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := srv.Serve(listeners[i])
			if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				errc <- err
			}
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	grace := o.GracefulTimeout
	if grace <= 0 {
		grace = 30 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	logger.Info("shutting down", "addr", l.Addr().String(), "grace", grace.String())
	var shutErrs []error
	var swg sync.WaitGroup
	var mu sync.Mutex
	for _, srv := range servers {
		swg.Add(1)
		go func() {
			defer swg.Done()
			if err := srv.Shutdown(sctx); err != nil {
				mu.Lock()
				shutErrs = append(shutErrs, err)
				mu.Unlock()
			}
		}()
	}
	swg.Wait()
	if s.Listener == nil || o.Protocol == "auto" {
		l.Close() // the sniffer's listener; Shutdown closed the others
	}
	wg.Wait()
	if len(shutErrs) > 0 {
		logger.Warn("graceful shutdown incomplete", "err", errors.Join(shutErrs...))
	}
	return runErr
}

var _ registry.Server = (*Server)(nil)
