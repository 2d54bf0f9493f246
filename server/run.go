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
	if s.Ready != nil {
		s.Ready(l.Addr())
	}

	var servers []Serving
	var listeners []net.Listener
	if o.Protocol == "auto" {
		sn := newSniffer(l, o.ReadTimeout, logger)
		for _, p := range allProtocols() {
			if p.Sniff == nil {
				continue
			}
			srv, err := p.New(h, o, logger.With("protocol", p.Name))
			if err != nil {
				l.Close()
				return err
			}
			servers = append(servers, srv)
			listeners = append(listeners, sn.add(p))
		}
		go sn.run()
	} else {
		p, ok := lookupProtocol(o.Protocol)
		if !ok {
			l.Close()
			return fmt.Errorf("server: unknown protocol %q", o.Protocol)
		}
		srv, err := p.New(h, o, logger)
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

func allProtocols() []Protocol {
	protoMu.RLock()
	defer protoMu.RUnlock()
	out := make([]Protocol, 0, len(protos))
	for _, n := range []string{"http", "scgi", "uwsgi", "fastcgi"} {
		if p, ok := protos[n]; ok {
			out = append(out, p)
		}
	}
	for n, p := range protos {
		switch n {
		case "http", "scgi", "uwsgi", "fastcgi":
		default:
			out = append(out, p)
		}
	}
	return out
}

var _ registry.Server = (*Server)(nil)

// SetAddr overrides where the server listens (gopaste serve --host and
// --port); an empty host or a negative port keeps the configured one.
func (s *Server) SetAddr(host string, port int) {
	if host != "" {
		s.Options.Listen.Host = host
		s.Options.Listen.Socket = ""
	}
	if port >= 0 {
		s.Options.Listen.Port = port
		s.Options.Listen.Socket = ""
	}
}
