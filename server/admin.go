package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gopaste/gopaste/internal/gateway"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	// Report, when set, replaces the listener: every ReportInterval
	// (zero means one second), and once more when the server stops, the
	// hub's new counts go through it as a line, [ReportPrefix] and an
	// [admin.Report] in JSON. A prefork worker sends them to its master,
	// whose listener shows them ([Prefork.Hub]).
	Report         func(line string) error
	ReportInterval time.Duration
}

// ReportPrefix starts the control-socket lines that carry a worker's
// [admin.Report].
const ReportPrefix = "stats "

// MaxReportLine bounds such a line, in bytes (see [admin.MaxReportSeries]).
const MaxReportLine = 1 << 20

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

// startAdmin serves a's admin listener, when a is set ([ServeAdmin]),
// and returns h wrapped to count every request in a's hub.
func startAdmin(ctx context.Context, a *AdminOptions, h http.Handler, logger *slog.Logger) (http.Handler, func()) {
	if a == nil {
		return h, func() {}
	}
	if a.Report != nil {
		r := admin.NewReporter(a.Hub)
		return r.Track(a.Hub.Wrap(h)), sendReports(a, r, logger)
	}
	return a.Hub.Wrap(h), ServeAdmin(ctx, a, logger)
}

// sendReports sends r's reports through a.Report until stop is called
// (after the server drained), then sends the last one.
func sendReports(a *AdminOptions, r *admin.Reporter, logger *slog.Logger) (stop func()) {
	every := a.ReportInterval
	if every <= 0 {
		every = time.Second
	}
	var mu sync.Mutex // one report at a time: the ticker's and stop's
	send := func() {
		mu.Lock()
		defer mu.Unlock()
		b, err := json.Marshal(r.Report())
		if err != nil || len(b)+len(ReportPrefix) >= MaxReportLine {
			logger.Warn("admin report not sent", "err", err, "bytes", len(b))
			return
		}
		if err := a.Report(ReportPrefix + string(b)); err != nil {
			logger.Debug("admin report not sent", "err", err) // the master is gone: the worker stops
		}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				send()
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-done
			send()
		})
	}
}

// adminRetry is how often ServeAdmin tries again to open a listener
// that is taken.
const adminRetry = time.Second

// ServeAdmin opens the admin listener and serves a.Hub's pages on it
// until stop is called; the hub reports the server serving until ctx is
// done, then draining. A listener that cannot be opened is logged and
// tried again every second, so that serving goes on without it: the new
// process of a binary upgrade gets the address once the old one has
// exited. A process that serves no request itself (a prefork master)
// calls it directly.
func ServeAdmin(ctx context.Context, a *AdminOptions, logger *slog.Logger) (stop func()) {
	srv := &http.Server{Handler: a.Hub.Handler(), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: gateway.DefaultIdleTimeout, // as the serving listeners
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	a.Hub.SetServing(true)
	quit := make(chan struct{})
	done := make(chan struct{})
	l, err := a.Listen.Listen(logger) // at once, in the usual case
	if err != nil {
		logger.Error("admin listener not opened; trying again every second", "err", err)
	}
	go func() {
		defer close(done)
		for l == nil {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				a.Hub.SetServing(false)
				return
			case <-time.After(adminRetry):
			}
			l, _ = a.Listen.Listen(logger) // the first error was logged
		}
		logger.Info("admin listening", "addr", l.Addr().String(), "network", l.Addr().Network())
		served := make(chan struct{})
		go func() {
			defer close(served)
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("admin listener stopped", "err", err)
			}
		}()
		select {
		case <-ctx.Done():
			a.Hub.SetServing(false) // draining: /healthz and /readyz say 503
		case <-quit:
		}
		<-quit
		srv.Close() // the admin pages are short: nothing to drain
		<-served
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			a.Hub.SetServing(false)
			close(quit)
			<-done
		})
	}
}
