package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gopaste/gopaste/admin"
	"github.com/gopaste/gopaste/registry"
)

// AdminOptions is the admin listener of a server section (key admin =
// HOST:PORT or unix:PATH): the status page, metrics and health checks of
// package admin, on their own address.
type AdminOptions struct {
	Listen ListenConfig
	// Hub is what the listener shows and what the server feeds with
	// every request it serves.
	Hub *admin.Hub
}

// readAdmin reads the admin key: nil when unset.
func readAdmin(c *registry.Config) *AdminOptions {
	v, ok := c.Lookup("admin")
	if !ok {
		return nil
	}
	a := &AdminOptions{Hub: admin.From(c)}
	a.Listen.Origin = fmt.Sprintf("%s: [%s]: key %q", c.KeyOrigin("admin"), c.Section, "admin")
	if p, ok := strings.CutPrefix(v, "unix:"); ok {
		if p == "" {
			c.Errorf("admin", "unix: needs a socket path")
		} else if !filepath.IsAbs(p) {
			p = filepath.Join(c.Here, p)
		}
		a.Listen.Socket = p
		return a
	}
	host, port, err := net.SplitHostPort(v)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 0 || n > 65535 {
		c.Errorf("admin", "%q is not HOST:PORT (127.0.0.1:9191) or unix:PATH", v)
		return a
	}
	a.Listen.Host, a.Listen.Port = host, n
	if host == "" {
		a.Listen.Host = "127.0.0.1"
	}
	return a
}

// startAdmin opens the admin listener, when a is set, and returns h
// wrapped to count every request; the hub reports the server serving
// until ctx is done, then draining. stop closes the listener.
func startAdmin(ctx context.Context, a *AdminOptions, h http.Handler, logger *slog.Logger) (http.Handler, func(), error) {
	if a == nil {
		return h, func() {}, nil
	}
	l, err := a.Listen.Listen(logger)
	if err != nil {
		return nil, nil, err
	}
	logger.Info("admin listening", "addr", l.Addr().String(), "network", l.Addr().Network())
	srv := &http.Server{Handler: a.Hub.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("admin listener stopped", "err", err)
		}
	}()
	a.Hub.SetServing(true)
	watch := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			a.Hub.SetServing(false)
		case <-watch:
		}
	}()
	return a.Hub.Wrap(h), func() {
		close(watch)
		a.Hub.SetServing(false)
		srv.Close() // the admin pages are short: nothing to drain
		<-done
	}, nil
}
