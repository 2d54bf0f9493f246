package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/internal/demo"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

func runServe(e *Env, args []string) int {
	fs := newFlags(e, "serve", "[CONFIG] [var=value ...] [options]")
	appName := fs.String("app", "main", "the app section to serve")
	serverName := fs.String("server", "main", "the server section to serve it with")
	reload := fs.Bool("reload", false, "watch the config files and rebuild the app when they change")
	printDefault := fs.Bool("print-default-config", false, "print the built-in demo's config and exit")
	listServers := fs.Bool("list-servers", false, "list the server sections of CONFIG (or the registered servers) and exit")
	verbose := fs.Bool("v", false, "log debug messages")
	host := fs.String("host", "", "listen on this host instead of the configured one")
	port := fs.Int("port", -1, "listen on this port instead of the configured one (0 picks a free port)")
	interval := fs.Duration("reload-interval", time.Second, "how often --reload checks the files")
	pos, err := parse(fs, args)
	if err != nil {
		return exitFlagErr(err)
	}
	if *printDefault {
		e.Stdout.Write(demo.Config)
		return 0
	}
	var level slog.LevelVar
	if *verbose {
		level.Set(slog.LevelDebug)
	}
	logger := slog.New(slog.NewTextHandler(e.Stderr, &slog.HandlerOptions{Level: &level}))
	opts := deploy.Options{Registry: e.Registry, Logger: logger, Global: map[string]string{}}
	path := ""
	for _, a := range pos {
		if k, v, ok := strings.Cut(a, "="); ok && !strings.Contains(k, "/") {
			opts.Global[k] = v
			continue
		}
		if path != "" {
			fmt.Fprintf(e.Stderr, "gopaste serve: more than one config: %s and %s\n", path, a)
			return 2
		}
		path = a
	}
	if path == "" {
		path = demo.ConfigPath
		opts.ReadFile = demo.ReadFile
		if _, ok := opts.Global["data_dir"]; !ok {
			dir, err := demo.DataDir()
			if err != nil {
				fmt.Fprintf(e.Stderr, "gopaste serve: %v\n", err)
				return 1
			}
			opts.Global["data_dir"] = dir
		}
		if *reload {
			fmt.Fprintln(e.Stderr, "gopaste serve: --reload needs a config file")
			return 2
		}
	}
	if *listServers {
		return listServerSections(e, path, opts)
	}

	app, err := deploy.BuildApp(path, *appName, opts)
	if err != nil {
		printErrors(e.Stderr, err)
		return 1
	}
	var spec *deploy.ServerSpec
	if has, _ := deploy.HasServer(path, *serverName, opts); !has && *serverName == "main" {
		// Like gunicorn --paste, serve HTTP when the file names no server.
		logger.Info("no [server:main] section; serving HTTP with the http server's defaults")
		spec, err = deploy.DefaultServer(opts)
	} else {
		spec, err = deploy.BuildServer(path, *serverName, opts)
	}
	if err != nil {
		app.Close()
		printErrors(e.Stderr, err)
		return 1
	}
	if s, ok := spec.Server.(interface{ SetOutput(io.Writer) }); ok {
		s.SetOutput(e.Stdout)
	}
	if _, ok := spec.Server.(interface{ OneShot() }); ok && !*verbose {
		// A CGI or console run answers one request; its stderr is a web
		// server's error log, which should not get lifecycle lines.
		level.Set(slog.LevelWarn)
	}
	if *host != "" || *port >= 0 {
		if s, ok := spec.Server.(interface{ SetAddr(string, int) }); ok {
			s.SetAddr(*host, *port)
		} else {
			fmt.Fprintf(e.Stderr, "gopaste serve: server %q does not take --host/--port\n", *serverName)
		}
	}

	var cur atomic.Pointer[tracked]
	cur.Store(&tracked{app: app})
	swap := server.NewSwap(cur.Load())
	ctx, cancel := context.WithCancel(e.Context)
	defer cancel()

	var wg sync.WaitGroup
	rebuild := func(reason string) {
		next, err := deploy.BuildApp(path, *appName, opts)
		if err != nil {
			logger.Error("reload failed; still serving the previous config", "reason", reason, "err", err)
			return
		}
		nt := &tracked{app: next}
		old := cur.Swap(nt)
		swap.Store(nt)
		logger.Info("reloaded", "reason", reason, "config", path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			old.closeWhenIdle(2 * time.Minute)
		}()
	}
	var reloads chan string
	if *reload || e.Hangup != nil {
		reloads = make(chan string, 1)
	}
	if *reload {
		wg.Add(1)
		go func() {
			defer wg.Done()
			watch(ctx, func() []string { return cur.Load().app.Files }, *interval, func(changed string) {
				select {
				case reloads <- "changed " + changed:
				default:
				}
			})
		}()
	}
	if e.Hangup != nil {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case _, ok := <-e.Hangup:
					if !ok {
						return
					}
					select {
					case reloads <- "SIGHUP":
					default:
					}
				}
			}
		}()
	}
	if reloads != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case why := <-reloads:
					rebuild(why)
				}
			}
		}()
	}

	err = spec.Server.Run(ctx, swap)
	cancel()
	wg.Wait()
	cur.Load().app.Close()
	if err != nil {
		logger.Error("server stopped", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// tracked counts the requests running on one built app, so that a
// replaced app is closed only once its last request is done.
type tracked struct {
	app    *deploy.App
	active atomic.Int64
}

func (t *tracked) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.active.Add(1)
	defer t.active.Add(-1)
	t.app.Handler.ServeHTTP(w, r)
}

// ConnContext lets the app prepare each connection's context: deploy puts
// the app's config there once instead of into every request.
func (t *tracked) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return deploy.ConnContext(ctx, t.app.Handler)
}

func (t *tracked) closeWhenIdle(max time.Duration) {
	deadline := time.Now().Add(max)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for t.active.Load() > 0 && time.Now().Before(deadline) {
		<-tick.C
	}
	t.app.Close()
}

// watch polls files' size and modification time every interval and calls
// changed with the first file that differs; it returns when ctx is done.
func watch(ctx context.Context, files func() []string, interval time.Duration, changed func(string)) {
	type stamp struct {
		size int64
		mod  time.Time
		ok   bool
	}
	snap := func() map[string]stamp {
		m := map[string]stamp{}
		for _, f := range files() {
			fi, err := os.Stat(f)
			if err != nil {
				m[f] = stamp{}
				continue
			}
			m[f] = stamp{fi.Size(), fi.ModTime(), true}
		}
		return m
	}
	last := snap()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := snap()
		for f, s := range now {
			if o, ok := last[f]; !ok || o != s {
				changed(f)
				break
			}
		}
		last = snap()
	}
}

func listServerSections(e *Env, path string, opts deploy.Options) int {
	if path == demo.ConfigPath && opts.ReadFile != nil {
		for _, p := range e.Registry.Parts(registry.ServerKind) {
			fmt.Fprintf(e.Stdout, "%-12s %s\n", p.Name, p.Description)
		}
		return 0
	}
	rep, err := deploy.Check(path, opts)
	if err != nil {
		printErrors(e.Stderr, err)
		return 1
	}
	for _, n := range rep.Trees {
		if n.Kind == "server" {
			fmt.Fprintf(e.Stdout, "%-20s %s (%s)\n", n.Ref, n.Part, n.Origin)
		}
	}
	return 0
}

func printErrors(w io.Writer, err error) {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range u.Unwrap() {
			printErrors(w, e)
		}
		return
	}
	fmt.Fprintf(w, "error: %v\n", err)
}
