package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
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
	verbose := fs.Bool("v", false, "log debug messages (--log-level debug)")
	host := fs.String("host", "", "listen on this host instead of the configured one")
	port := fs.Int("port", -1, "listen on this port instead of the configured one (0 picks a free port)")
	interval := fs.Duration("reload-interval", time.Second, "how often --reload checks the files")
	var lf logFlags
	lf.add(fs)
	ca, code, ok := parseConfigArgs(e, "serve", fs, args, false)
	if !ok {
		return code
	}
	if *printDefault {
		e.Stdout.Write(demo.Config)
		return 0
	}
	if *verbose && lf.level == "" {
		lf.level = "debug"
	}
	if err := lf.check(); err != nil {
		fmt.Fprintf(e.Stderr, "gopaste serve: %v\n", err)
		return 2
	}
	logs := newLogOutput(e.Stderr, lf)
	defer logs.close()
	logger := slog.New(logs.handler())
	opts := deploy.Options{Registry: e.Registry, Logger: logger, Global: ca.global,
		Pool: new(registry.Pool), Stdout: e.Stdout}
	if *host != "" {
		opts.ServerKeys = append(opts.ServerKeys, registry.Entry{Key: "host", Value: *host, Origin: "--host"})
	}
	if *port >= 0 {
		opts.ServerKeys = append(opts.ServerKeys, registry.Entry{Key: "port", Value: strconv.Itoa(*port), Origin: "--port"})
	}
	if ca.path == "" {
		ca.path = demo.ConfigPath
		opts.ReadFile = demo.ReadFile
		if _, ok := ca.global["data_dir"]; !ok {
			dir, err := demo.DataDir()
			if err != nil {
				fmt.Fprintf(e.Stderr, "gopaste serve: %v\n", err)
				return 1
			}
			ca.global["data_dir"] = dir
		}
		if *reload {
			fmt.Fprintln(e.Stderr, "gopaste serve: --reload needs a config file")
			return 2
		}
	}
	if *listServers {
		return listServerSections(e, ca.path, opts)
	}

	s := &serving{env: e, logger: logger, logs: logs, path: ca.path, app: *appName, srv: *serverName, opts: opts}
	gen, err := deploy.Load(s.path, s.app, s.srv, opts)
	if err == nil {
		if err = logs.apply(gen.Log); err != nil {
			gen.Close()
		}
	}
	if err != nil {
		printErrors(e.Stderr, err)
		return 1
	}
	if e.SetLogger != nil {
		e.SetLogger(logger)
	}
	s.loaded(gen)
	if *reload {
		s.interval = *interval
	}
	return s.run(gen)
}

// serving is one "gopaste serve": the generation serving now, the ones
// being retired, and the loop that reloads and reopens.
type serving struct {
	env            *Env
	logger         *slog.Logger
	logs           *logOutput
	path, app, srv string
	opts           deploy.Options
	interval       time.Duration // of --reload; 0 means no watching

	cur      atomic.Pointer[deploy.Generation]
	swap     *server.Swap
	stopped  chan struct{}  // closed once the server returned
	retiring sync.WaitGroup // the goroutines closing replaced generations
}

// run serves gen until the context ends, reloading on SIGHUP (and file
// changes under --reload) and reopening files on SIGUSR1.
func (s *serving) run(gen *deploy.Generation) int {
	s.cur.Store(gen)
	s.swap = server.NewSwap(gen.Handler)
	s.stopped = make(chan struct{})
	ctx, cancel := context.WithCancel(s.env.Context)
	var loops sync.WaitGroup
	reloads := make(chan string, 1)
	if s.interval > 0 {
		loops.Add(1)
		go func() {
			defer loops.Done()
			watch(ctx, func() []string { return s.cur.Load().Files }, s.interval, func(changed string) {
				select {
				case reloads <- "changed " + changed:
				default:
				}
			})
		}()
	}
	loops.Add(1)
	go func() {
		defer loops.Done()
		s.loop(ctx, reloads)
	}()

	err := gen.Server.Run(ctx, s.swap)
	cancel()
	close(s.stopped)
	loops.Wait()
	s.retiring.Wait()
	if cerr := s.cur.Load().Close(); cerr != nil {
		s.logger.Warn("closing the config's parts", "err", cerr)
	}
	if err != nil {
		s.logger.Error("server stopped", "err", err)
		return 1
	}
	s.logger.Debug("stopped")
	return 0
}

// loop handles reload and reopen requests until ctx is done.
func (s *serving) loop(ctx context.Context, reloads <-chan string) {
	hangup, reopen := s.env.Hangup, s.env.Reopen
	for {
		select {
		case <-ctx.Done():
			return
		case why := <-reloads:
			s.reload(why)
		case _, ok := <-hangup:
			if !ok {
				hangup = nil
				continue
			}
			s.reload("SIGHUP")
		case _, ok := <-reopen:
			if !ok {
				reopen = nil
				continue
			}
			if err := s.logs.reopen(); err != nil {
				s.logger.Error("reopen log file", "err", err)
			}
			if err := s.cur.Load().Reopen(); err != nil {
				s.logger.Error("reopen files", "err", err)
			}
		}
	}
}

// reload loads a new generation and swaps it in; the old one is closed
// once its last request is done. A config that does not load leaves the
// old one serving.
func (s *serving) reload(reason string) {
	next, err := deploy.Load(s.path, s.app, s.srv, s.opts)
	if err == nil {
		if err = s.logs.apply(next.Log); err != nil {
			next.Close()
		}
	}
	if err != nil {
		errs := flatten(err)
		s.logger.Error("reload failed; still serving the previous config", "reason", reason, "config", s.path, "errors", len(errs))
		for _, e := range errs {
			s.logger.Error("config error", "err", e)
		}
		return
	}
	old := s.cur.Swap(next)
	idle := s.swap.Store(next.Handler)
	s.loaded(next)
	if !sameServer(old.ServerNode, next.ServerNode) {
		s.logger.Warn("the server section changed; restart gopaste serve to apply it", "section", next.ServerNode.Section)
	}
	s.logger.Info("reloaded", "reason", reason, "config", s.path)
	s.retiring.Add(1)
	go func() {
		defer s.retiring.Done()
		select {
		case <-idle:
		case <-s.stopped: // the server gave up on what still runs
		}
		if err := old.Close(); err != nil {
			s.logger.Warn("closing the previous config's parts", "err", err)
		}
	}()
}

// loaded logs what a new generation's load said.
func (s *serving) loaded(g *deploy.Generation) {
	for _, w := range g.Warnings {
		s.logger.Warn("config", "warning", w.String())
	}
	if g.DefaultServer {
		s.logger.Info("no [server:main] section; serving HTTP with the http server's defaults")
	}
}

// sameServer reports whether two server trees use the same part with the
// same keys (the running server is not rebuilt on reload).
func sameServer(a, b *deploy.Node) bool {
	kv := func(n *deploy.Node) []string {
		out := []string{n.Part}
		for _, e := range n.Local {
			out = append(out, e.Key+"="+e.Value)
		}
		return out
	}
	return slices.Equal(kv(a), kv(b))
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
