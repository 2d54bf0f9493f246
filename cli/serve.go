package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/internal/demo"
	"github.com/gopaste/gopaste/proc"
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
	pidfile := fs.String("pidfile", "", "write the process id to `PATH` once serving (gopaste stop, reload and restart PATH signal it)")
	static := fs.String("static", "", "serve the files of `DIR` without a config: the static app (with listings) and gzip, on 127.0.0.1:8080 unless --host, --port")
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
	// A prefork worker or the new process of an upgrade was handed the
	// listener by its parent.
	inh, err := server.Inherit()
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste serve: %v\n", err)
		return 1
	}
	if inh != nil && inh.Role == server.RoleWorker {
		logger = logger.With("worker", inh.Worker)
		*pidfile, *reload = "", false // the master's
	}
	opts := deploy.Options{Registry: e.Registry, Logger: logger, Global: ca.global,
		Pool: new(registry.Pool), Stdout: e.Stdout}
	if *host != "" {
		opts.ServerKeys = append(opts.ServerKeys, registry.Entry{Key: "host", Value: *host, Origin: "--host"})
	}
	if *port >= 0 {
		opts.ServerKeys = append(opts.ServerKeys, registry.Entry{Key: "port", Value: strconv.Itoa(*port), Origin: "--port"})
	}
	if *static != "" {
		if ca.path != "" || *reload {
			fmt.Fprintln(e.Stderr, "gopaste serve: --static DIR takes no CONFIG and no --reload")
			return 2
		}
		if ca.path, opts.ReadFile, err = staticConfig(*static); err != nil {
			fmt.Fprintf(e.Stderr, "gopaste serve: --static: %v\n", err)
			return 2
		}
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

	// A prefork master serves nothing: its app is built check-only
	// (registry.Config.CheckOnly), so that a process or wsgi app starts
	// its workers in the prefork workers only. Whether this is a master
	// shows once the server is built, which deploy.Load does before the
	// app, asking AppCheckOnly: the config is read and built once.
	mayBeMaster := inh == nil || inh.Role != server.RoleWorker
	if mayBeMaster {
		opts.AppCheckOnly = func(srv registry.Server) bool {
			built, ok := srv.(*server.Server)
			return ok && built.Options.Concurrency == "prefork"
		}
	}
	s := &serving{env: e, logger: logger, logs: logs, path: ca.path, app: *appName, srv: *serverName, opts: opts,
		args: args, pidfile: *pidfile, inh: inh}
	gen, err := deploy.Load(s.path, s.app, s.srv, s.opts)
	// Reloads keep what the start decided: the running server stays.
	s.opts.AppCheckOnly = nil
	s.opts.CheckOnly = err == nil && mayBeMaster && serverOptions(gen).Concurrency == "prefork"
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
	return s.start(gen)
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

	args     []string          // serve's, for prefork workers and upgrades
	pidfile  string            // --pidfile
	inh      *server.Inherited // what a parent gopaste handed down; nil for none
	listener net.Listener      // the listening socket, when the server has one
	prefork  *server.Prefork   // the workers, when this is a prefork master
	upgraded *os.File          // kept open until exit once an upgrade succeeded
}

// start acquires the server's listener (inherited from a parent gopaste
// or from systemd, else opened) and serves gen with it, as a prefork
// master or in this process.
func (s *serving) start(gen *deploy.Generation) int {
	srv, ok := gen.Server.(*server.Server)
	if !ok { // a server without a listener (cgi, console)
		if s.inh != nil {
			s.logger.Error("server stopped", "err", fmt.Errorf("server section %s takes no listener from a parent process", gen.ServerNode.Section))
			gen.Close()
			return 1
		}
		return s.run(gen)
	}
	l, err := s.listen(srv)
	if err != nil {
		gen.Close()
		s.logger.Error("server stopped", "err", err)
		return 1
	}
	s.listener, srv.Listener = l, l
	defer l.Close() // after the protocol server's Shutdown closed it, an error
	if a := srv.Options.Admin; a != nil && s.inh != nil && s.inh.Role == server.RoleWorker {
		// The master has the one admin listener for all the workers;
		// each sends it what it counts.
		wa := *a
		wa.Report = s.inh.Send
		srv.Options.Admin = &wa
	}
	if srv.Options.Concurrency == "prefork" && (s.inh == nil || s.inh.Role != server.RoleWorker) {
		return s.runPrefork(gen, srv.Options)
	}
	return s.run(gen)
}

// listen returns the listener srv serves: the one a parent gopaste or
// systemd (LISTEN_FDS) handed down, else one opened as configured.
func (s *serving) listen(srv *server.Server) (net.Listener, error) {
	lc := srv.Options.Listen
	if s.inh != nil {
		if ul, ok := s.inh.Listener.(*net.UnixListener); ok && s.inh.Role == server.RoleUpgrade {
			ul.SetUnlinkOnClose(true) // this process owns the socket file now
		}
		return lc.Inherited(s.inh.Listener, s.logger), nil
	}
	ls, err := proc.Listeners()
	if err != nil {
		return nil, err
	}
	if len(ls) > 0 {
		for _, extra := range ls[1:] {
			s.logger.Warn("ignoring an extra socket systemd passed (one is served)", "addr", extra.Addr().String())
			extra.Close()
		}
		s.logger.Info("serving the socket systemd passed (LISTEN_FDS); host, port and socket are unused", "addr", ls[0].Addr().String())
		return lc.Inherited(ls[0], s.logger), nil
	}
	return lc.Listen(s.logger)
}

// run serves gen until the context ends, reloading on SIGHUP (and file
// changes under --reload and reload_file), reopening files on SIGUSR1
// and handing over to a new process on SIGUSR2.
func (s *serving) run(gen *deploy.Generation) int {
	s.cur.Store(gen)
	sizeProcs(s.logger)
	s.swap = server.NewSwap(gen.Handler)
	s.stopped = make(chan struct{})
	ctx, cancel := context.WithCancel(s.env.Context)
	// The server stops once the listener is drained (see server.Drain).
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	var h http.Handler = s.swap
	var drain *server.Drain
	if srv, ok := gen.Server.(*server.Server); ok {
		o := srv.Options
		if srv.Listener != nil {
			// Ready once the server accepts: a process taking over the
			// listener (a prefork worker, an upgrade) says so only then,
			// and the one it replaces stops accepting after that.
			drain = &server.Drain{Serving: s.ready}
			srv.Listener = drain.Listener(srv.Listener)
		} else {
			srv.Ready = func(net.Addr) { s.ready() }
		}
		if s.inh != nil && s.inh.Role == server.RoleWorker {
			// A worker serves until its master is gone, and asks to be
			// replaced after max_requests.
			h = server.MaxRequests(h, o, func() {
				s.logger.Info("max_requests served; asking the master for a replacement", "max_requests", o.MaxRequests)
				s.inh.Send("recycle")
			})
			go func() {
				select {
				case <-s.inh.ParentGone():
					s.logger.Warn("the prefork master is gone; stopping")
					cancel()
				case <-ctx.Done():
				}
			}()
		}
	}
	if drain != nil {
		h = drain.Handler(h)
	}
	reloads := make(chan string, 1)
	loops := s.watchers(ctx, reloads)
	loops.Add(2)
	go func() {
		defer loops.Done()
		s.loop(ctx, cancel, reloads, s.reload)
	}()
	go func() {
		defer loops.Done()
		<-ctx.Done()
		if drain != nil {
			drain.Start()
		}
		stopRun()
	}()

	err := gen.Server.Run(runCtx, h)
	cancel()
	close(s.stopped)
	loops.Wait()
	s.retiring.Wait()
	if cerr := s.cur.Load().Close(); cerr != nil {
		s.logger.Warn("closing the config's parts", "err", cerr)
	}
	s.exit()
	if err != nil {
		s.logger.Error("server stopped", "err", err)
		return 1
	}
	s.logger.Debug("stopped")
	return 0
}

// ready is called once this process serves: it writes the pid file and
// tells the parent of an upgrade.
func (s *serving) ready() {
	if s.inh != nil && s.inh.Role == server.RoleWorker {
		s.inh.Send("ready")
		return
	}
	if s.pidfile != "" {
		if err := server.WritePIDFile(s.pidfile); err != nil {
			s.logger.Error("writing the pid file", "err", err)
		}
	}
	if s.inh != nil && s.inh.Role == server.RoleUpgrade {
		s.inh.Send("ready")
		s.logger.Info("upgrade: serving; the previous process drains and exits")
	}
}

// exit removes the pid file when it is still this process's.
func (s *serving) exit() {
	if s.pidfile != "" {
		server.RemovePIDFile(s.pidfile)
	}
}

// watchers starts the --reload watcher and the reload_file watcher,
// which send reload reasons to reloads until ctx ends; the caller waits
// for the group.
func (s *serving) watchers(ctx context.Context, reloads chan<- string) *sync.WaitGroup {
	var wg sync.WaitGroup
	poll := func(files func() []string, every time.Duration, what string) {
		// The starting state is taken here, before the server says it
		// is listening: a change made right after that is not missed.
		w := newWatch(files)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(ctx, every, func(changed string) {
				select {
				case reloads <- what + changed:
				default: // one is pending already
				}
			})
		}()
	}
	if s.interval > 0 {
		poll(func() []string { return s.cur.Load().Files }, s.interval, "changed ")
	}
	if s.inh == nil || s.inh.Role != server.RoleWorker {
		poll(func() []string {
			if srv, ok := s.cur.Load().Server.(*server.Server); ok && srv.Options.ReloadFile != "" {
				return []string{srv.Options.ReloadFile}
			}
			return nil
		}, reloadFilePoll, "touched ")
	}
	return &wg
}

// reloadFilePoll is how often reload_file is checked.
const reloadFilePoll = time.Second

// loop handles reload, reopen and upgrade requests until ctx is done;
// after a successful upgrade it calls stop.
func (s *serving) loop(ctx context.Context, stop func(), reloads <-chan string, reload func(string)) {
	hangup, reopen, upgrade, workers := s.env.Hangup, s.env.Reopen, s.env.Upgrade, s.env.Workers
	if s.inh != nil && s.inh.Role == server.RoleWorker {
		upgrade, workers = nil, nil // the master's business
	}
	for {
		select {
		case <-ctx.Done():
			return
		case why := <-reloads:
			reload(why)
		case _, ok := <-hangup:
			if !ok {
				hangup = nil
				continue
			}
			reload("SIGHUP")
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
			if s.prefork != nil {
				s.prefork.Signal(syscall.SIGUSR1)
			}
		case _, ok := <-upgrade:
			if !ok {
				upgrade = nil
				continue
			}
			if s.upgrade() {
				stop()
				return
			}
		case d, ok := <-workers:
			if !ok {
				workers = nil
				continue
			}
			s.addWorkers(ctx, d)
		}
	}
}

// addWorkers changes the number of workers by d (SIGTTIN, SIGTTOU),
// keeping at least one: a prefork master's own workers, or else those of
// the process and wsgi apps of the config (deploy.WorkerScaler).
func (s *serving) addWorkers(ctx context.Context, d int) {
	if s.prefork == nil {
		counts, err := s.cur.Load().AddWorkers(d)
		switch {
		case len(counts) == 0 && err == nil:
			s.logger.Warn("SIGTTIN and SIGTTOU change the number of workers of a concurrency = prefork server, " +
				"or of process and wsgi apps; this config has none; ignored")
		case err != nil:
			s.logger.Error("changing the number of workers", "workers", counts, "err", err)
		}
		return // each pool logs its own change
	}
	n := len(s.prefork.Pids()) + d
	if n < 1 {
		s.logger.Warn("the last worker stays", "workers", 1)
		return
	}
	if err := s.prefork.Resize(ctx, n); err != nil {
		s.logger.Error("changing the number of workers", "workers", n, "err", err)
		return
	}
	s.logger.Info("workers changed", "workers", s.prefork.Pids())
}

// upgrade starts the executable anew with the listener inherited and
// reports whether it took over; when it did not, this process goes on
// serving.
func (s *serving) upgrade() bool {
	if s.listener == nil {
		s.logger.Error("upgrade refused: the server section has no listener to hand over")
		return false
	}
	if s.inh != nil && s.inh.Role == server.RoleUpgrade {
		select {
		case <-s.inh.ParentGone():
		default:
			s.logger.Error("upgrade refused: the previous process is still draining")
			return false
		}
	}
	exe, err := os.Executable()
	if err != nil {
		s.logger.Error("upgrade failed; still serving", "err", err)
		return false
	}
	f, err := server.ListenerFile(s.listener)
	if err != nil {
		s.logger.Error("upgrade failed; still serving", "err", err)
		return false
	}
	defer f.Close()
	s.logger.Info("upgrade: starting the new process", "path", exe)
	u := server.Upgrade{Path: exe, Args: append([]string{exe, "serve"}, s.args...), Listener: f,
		Stdout: s.env.Stdout, Stderr: s.env.Stderr}
	pid, keep, err := u.Run()
	if err != nil {
		s.logger.Error("upgrade failed; still serving", "err", err)
		if s.pidfile != "" {
			// Rewritten with the same pid: "gopaste restart" learns
			// the upgrade failed.
			server.WritePIDFile(s.pidfile)
		}
		return false
	}
	s.upgraded = keep
	server.KeepSocketFile(s.listener)
	s.logger.Info("upgrade: the new process is ready; draining", "new_pid", pid)
	return true
}

// next loads a new generation for a reload; when the config does not
// load it logs why and returns nil.
func (s *serving) next(reason string) *deploy.Generation {
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
		return nil
	}
	s.loaded(next)
	return next
}

// reload loads a new generation and swaps it in; the old one is closed
// once its last request is done. A config that does not load leaves the
// old one serving.
func (s *serving) reload(reason string) {
	next := s.next(reason)
	if next == nil {
		return
	}
	old := s.cur.Swap(next)
	idle := s.swap.Store(next.Handler)
	if !sameServer(old.ServerNode, next.ServerNode) {
		s.logger.Warn("the server section changed; gopaste restart (SIGUSR2) applies it", "section", next.ServerNode.Section)
	}
	s.logger.Info("reloaded", "reason", reason, "config", s.path)
	sizeProcs(s.logger)
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
		sizeProcs(s.logger) // the previous config's workers are gone
	}()
}

// runPrefork is the prefork master: it serves no request itself but
// runs the workers that serve the listener, rolls them on reload and
// stops them when the context ends.
func (s *serving) runPrefork(gen *deploy.Generation, o server.Options) int {
	// The master built the config check-only (runServe): its parts
	// started nothing and are closed at once; gen is kept for its files
	// and server keys.
	if err := gen.Close(); err != nil {
		s.logger.Warn("closing the config's parts", "err", err)
	}
	s.cur.Store(gen)
	exe, err := os.Executable()
	if err != nil {
		s.logger.Error("server stopped", "err", err)
		return 1
	}
	f, err := server.ListenerFile(s.listener)
	if err != nil {
		s.logger.Error("server stopped", "err", err)
		return 1
	}
	defer f.Close()
	addr := s.listener.Addr()
	s.logger.Info("listening", "protocol", o.Protocol, "addr", addr.String(), "network", addr.Network(),
		"concurrency", "prefork", "workers", o.Workers)
	s.prefork = &server.Prefork{Workers: o.Workers, Path: exe, Args: append([]string{exe, "serve"}, s.args...),
		Listener: f, Stdout: s.env.Stdout, Stderr: s.env.Stderr, Logger: s.logger,
		StopTimeout: o.GracefulTimeout + 5*time.Second}
	if o.Admin != nil {
		s.prefork.Hub = o.Admin.Hub // the workers' counts
	}
	ctx, cancel := context.WithCancel(s.env.Context)
	defer cancel()
	if err := s.prefork.Start(ctx); err != nil {
		if ctx.Err() != nil { // stopped while starting
			return 0
		}
		s.logger.Error("server stopped", "err", err)
		return 1
	}
	if o.Admin != nil {
		defer o.Admin.Hub.AddSource("prefork", s.prefork.Source())()
		defer server.ServeAdmin(ctx, o.Admin, s.logger)()
	}
	s.ready()
	reloads := make(chan string, 1)
	loops := s.watchers(ctx, reloads)
	loops.Add(1)
	go func() {
		defer loops.Done()
		s.loop(ctx, cancel, reloads, func(reason string) { s.roll(ctx, reason) })
	}()
	s.prefork.Run(ctx)
	cancel()
	loops.Wait()
	s.exit()
	s.logger.Info("stopped")
	return 0
}

// roll is a prefork master's reload: the config must load, then every
// worker is replaced by one that reads it, one by one.
func (s *serving) roll(ctx context.Context, reason string) {
	next := s.next(reason)
	if next == nil {
		return
	}
	if err := next.Close(); err != nil {
		s.logger.Warn("closing the config's parts", "err", err)
	}
	old := s.cur.Swap(next)
	a, b := serverOptions(old), serverOptions(next)
	an, aa := a.Listen.Addr()
	bn, ba := b.Listen.Addr()
	if an != bn || aa != ba || b.Concurrency != "prefork" {
		s.logger.Warn("the address or concurrency changed; gopaste restart (SIGUSR2) applies them", "section", next.ServerNode.Section)
	}
	// A changed worker count is applied with the roll: fewer workers
	// first, so that fewer are replaced; more after, so that the new ones
	// start with the new config and are not replaced again.
	resize := func() bool {
		if b.Concurrency != "prefork" || b.Workers < 1 || b.Workers == len(s.prefork.Pids()) {
			return true
		}
		if err := s.prefork.Resize(ctx, b.Workers); err != nil {
			s.logger.Error("reload: the workers could not be brought to the new count", "workers", b.Workers, "err", err)
			return false
		}
		return true
	}
	if b.Workers < len(s.prefork.Pids()) && !resize() {
		return
	}
	if err := s.prefork.Roll(ctx); err != nil {
		s.logger.Error("reload failed: a new worker did not start; the workers not yet replaced serve the previous config", "reason", reason, "err", err)
		return
	}
	if !resize() {
		return
	}
	s.logger.Info("reloaded", "reason", reason, "config", s.path, "workers", s.prefork.Pids())
}

// serverOptions returns g's server keys (zero for a server without).
func serverOptions(g *deploy.Generation) server.Options {
	if srv, ok := g.Server.(*server.Server); ok {
		return srv.Options
	}
	return server.Options{}
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

// fileWatch polls files for a change of size or modification time.
type fileWatch struct {
	files func() []string
	last  map[string]fileStamp
}

type fileStamp struct {
	size int64
	mod  time.Time
	ok   bool
}

// newWatch records the files' state now: run reports changes from it.
func newWatch(files func() []string) *fileWatch {
	w := &fileWatch{files: files}
	w.last = w.snap()
	return w
}

func (w *fileWatch) snap() map[string]fileStamp {
	m := map[string]fileStamp{}
	for _, f := range w.files() {
		fi, err := os.Stat(f)
		if err != nil {
			m[f] = fileStamp{}
			continue
		}
		m[f] = fileStamp{fi.Size(), fi.ModTime(), true}
	}
	return m
}

// run checks the files every interval until ctx ends and calls changed
// with the first one that differs from the previous check (or is new).
// The state compared next is the one that found the change: a file
// written again after it is seen at the next check.
func (w *fileWatch) run(ctx context.Context, interval time.Duration, changed func(string)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := w.snap()
		for f, s := range now {
			if o, ok := w.last[f]; !ok || o != s {
				changed(f)
				break
			}
		}
		w.last = now
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
