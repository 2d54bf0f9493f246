package process

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/fastcgi"
	"github.com/gopaste/gopaste/proc"
	"github.com/gopaste/gopaste/proxy"
)

// NoSignal as StackSignal sends no signal before a hard timeout's kill.
const NoSignal syscall.Signal = -1

// Options configure a Pool. Command is required; the zero values of the
// others are the defaults their comments name.
type Options struct {
	// Command is the worker's program and its arguments. In each, {worker}
	// is replaced by the worker's number (1 to Workers), {socket} by a
	// unix socket path and {port} by a free loopback TCP port, which the
	// worker then listens on itself. Without {socket} or {port} the
	// worker gets its socket as fd 3, with LISTEN_FDS=1 and LISTEN_PID
	// set (systemd's socket activation).
	Command []string
	// Dir is the workers' working directory; empty means this process's.
	Dir string
	// Env are NAME=value variables added to this process's environment.
	Env []string
	// Workers is how many workers run; zero means runtime.NumCPU().
	Workers int
	// Protocol is what the workers speak: "http" (the default), "scgi",
	// "uwsgi" or "fastcgi".
	Protocol string
	// Script, for Protocol "fastcgi", maps a path to a script file for
	// workers that run one per request (PHP-FPM): SCRIPT_FILENAME and
	// the SCRIPT_NAME/PATH_INFO split, as fastcgi_proxy sends them.
	Script fastcgi.Script
	// Listen is the socket opened for a worker that gets it as fd 3:
	// "unix" (the default) or "tcp" (a loopback port).
	Listen string
	// RuntimeDir holds the unix sockets; empty means a new temporary
	// directory, removed by Close.
	RuntimeDir string
	// User and Group, when set, run the workers as that user and group
	// (names or numbers); this needs root. A user alone means its
	// primary group.
	User, Group string
	// Concurrency is how many requests a worker serves at once; zero
	// means 1.
	Concurrency int
	// Pipeline, for Protocol "uwsgi", is how many GET or HEAD requests
	// without a body a worker with all its Concurrency busy may take
	// per connection beyond the one running there: each is written
	// behind it, and the worker reads the next the moment it has
	// answered, without waiting for the pool to read that answer and
	// send another. Such a request waits for those ahead of it on that
	// worker, not for the first worker free. Only for workers that read
	// a kept connection's requests in order: gopaste's Python worker
	// (the wsgi app, where it is 1 by default) and workers built on
	// gopaste's uwsgi Server. Zero means none.
	Pipeline int
	// ReserveCPUs says each worker keeps a CPU busy while it computes a
	// reply and has no use for more (a Python worker, held to one CPU by
	// its interpreter lock): its workers count in Supervised, and
	// "gopaste serve" leaves them half the CPUs.
	ReserveCPUs bool
	// MaxQueue is how many requests may wait for a worker; zero means
	// 128, negative means none.
	MaxQueue int
	// QueueTimeout bounds the wait for a worker; zero means 30s.
	QueueTimeout time.Duration
	// StartupTimeout bounds a worker's start until it is ready; zero
	// means 30s.
	StartupTimeout time.Duration
	// StartupPath is the path of the request that checks that a worker
	// given its socket is ready (any reply will do); empty means "/".
	StartupPath string
	// MaxRequests, when positive, recycles a worker after that many
	// requests.
	MaxRequests int
	// MaxRequestsJitter adds a random 0 to MaxRequestsJitter requests to
	// each worker's MaxRequests, so that workers started together are
	// not all recycled at once.
	MaxRequestsJitter int
	// MemoryLimit, when positive, recycles a worker whose resident
	// memory passes that many bytes, checked after each request.
	MemoryLimit int64
	// Timeout, when positive, answers 504 to a request whose worker has
	// not begun its reply that long after it got the request (and logs
	// it); the worker keeps the request, and stays busy, until it has
	// answered.
	Timeout time.Duration
	// HardTimeout, when positive, kills the worker of a request running
	// longer since it got a worker (reply included), after sending
	// StackSignal; the request gets 504 if it has not had its reply yet.
	HardTimeout time.Duration
	// StackSignal is sent to the worker one second before a hard
	// timeout's kill, to have it write its stack to its stderr: zero
	// means SIGQUIT for a Go program (the Go runtime's dump), SIGUSR1
	// when the program's name starts with "python" (for a worker that
	// registered faulthandler on it), else none. NoSignal sends none.
	StackSignal syscall.Signal
	// StopSignal asks a worker to stop; zero means SIGTERM.
	StopSignal syscall.Signal
	// GracefulTimeout bounds Close's wait for the requests in flight,
	// and then a worker's time between StopSignal and SIGKILL; zero
	// means 30s.
	GracefulTimeout time.Duration
	// MaxBodySpool is the largest request body of unknown length
	// spooled to a file for a protocol that needs a length (all but
	// http); zero means 10 MiB, negative none (411).
	MaxBodySpool int64
	// MinRestartDelay and MaxRestartDelay bound the delay before a worker
	// that died is started again (it doubles while the worker keeps
	// dying within 10s); zero means 100ms and 30s.
	MinRestartDelay, MaxRestartDelay time.Duration
	// Observe, when set, is called with each request's status and the
	// time until its reply began (or it failed): the status page's
	// backend series.
	Observe func(status int, d time.Duration)
	// Logger gets the pool's events and the workers' output; nil means
	// slog.Default().
	Logger *slog.Logger
	// CheckOnly makes New validate the options and look the command up
	// (in PATH, or relative to Dir) but start no worker and make no
	// directory: "gopaste check" (registry.Config.CheckOnly). Such a
	// pool has no worker to serve with; Close it.
	CheckOnly bool
}

// Pool is a set of supervised workers and the http.Handler that sends
// requests to them. It is safe for concurrent use.
type Pool struct {
	opts     Options
	log      *slog.Logger
	proxy    *proxy.Proxy
	env      []string
	cred     *syscall.Credential
	stackSig syscall.Signal
	mode     string // "fd", "socket" ({socket}) or "port" ({port})
	dir      string
	ownDir   bool
	seq      atomic.Int64 // spawns, for socket names

	ctx     context.Context    // the supervisors' parent
	stop    context.CancelFunc // ends the supervisors
	wg      sync.WaitGroup     // the supervisors
	closed  chan struct{}      // closed by Close: queued requests give up
	closeMu sync.Once

	mu       sync.Mutex
	children []*child // started, not yet exited
	// slots end the supervisor of each worker number (slots[0] is
	// worker 1's): as many as the workers the pool keeps running.
	slots    []context.CancelFunc
	waiters  []*waiter
	next     int // round robin among equally busy workers
	inflight int // requests holding a worker or waiting for one
	drained  chan struct{}

	supervised int64 // what Start and AddWorkers added to Supervised, Close takes off
}

// New validates opts, starts every worker and waits until all are ready:
// Prepare, then Start. When one cannot start, it stops the others and
// returns an error with the end of that worker's standard error.
func New(opts Options) (*Pool, error) {
	p, err := Prepare(opts)
	if err != nil {
		return nil, err
	}
	if err := p.Start(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Prepare validates opts and returns the pool without starting a worker:
// Start starts them. The process app's factory prepares its pool while
// the config builds and starts it once the whole config has built
// (registry.Config.OnStart), so that an error elsewhere in the config
// starts no worker. Close a pool prepared and not started as any other.
func Prepare(opts Options) (*Pool, error) {
	p, err := newPool(opts)
	if err != nil {
		return nil, err
	}
	p.ctx, p.stop = context.WithCancel(context.Background())
	if opts.CheckOnly {
		if err := findCommand(opts.Command[0], opts.Dir); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// Start starts every worker and waits until all are ready; call it once.
// When one cannot start, it stops the others and returns an error with
// the end of that worker's standard error; the pool then serves nothing,
// and is to be closed. A CheckOnly pool starts nothing.
func (p *Pool) Start() error {
	if p.opts.CheckOnly {
		return nil
	}
	first := make([]*child, p.opts.Workers)
	errs := make([]error, p.opts.Workers)
	slotCtx := make([]context.Context, p.opts.Workers)
	p.mu.Lock()
	p.slots = make([]context.CancelFunc, p.opts.Workers)
	for i := range slotCtx {
		slotCtx[i], p.slots[i] = context.WithCancel(p.ctx)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for i := range first {
		wg.Go(func() { first[i], errs[i] = p.spawn(slotCtx[i], i+1) })
	}
	wg.Wait()
	// The first failure says it: the others most likely failed alike.
	if i := slices.IndexFunc(errs, func(e error) bool { return e != nil }); i >= 0 {
		p.stop()
		for _, c := range first {
			if c != nil {
				c.proc.Stop()
			}
		}
		return errs[i]
	}
	for i, c := range first {
		p.wg.Go(func() { p.supervise(slotCtx[i], i+1, c) })
	}
	if p.opts.ReserveCPUs {
		p.mu.Lock()
		p.supervised = int64(p.opts.Workers)
		p.mu.Unlock()
		supervised.Add(int64(p.opts.Workers))
	}
	return nil
}

// supervised counts the workers of the pools running in this process
// with ReserveCPUs.
var supervised atomic.Int64

// Supervised returns how many workers the pools with ReserveCPUs that
// run in this process supervise (a preloading wsgi app's parent counts
// as one): "gopaste serve" gives the Go runtime half the CPUs while it
// is not zero (docs/wsgi.md, "CPUs").
func Supervised() int { return int(supervised.Load()) }

func newPool(o Options) (*Pool, error) {
	if len(o.Command) == 0 || o.Command[0] == "" {
		return nil, errors.New("process: no command")
	}
	if o.Workers == 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	switch {
	case o.MaxQueue == 0:
		o.MaxQueue = 128
	case o.MaxQueue < 0:
		o.MaxQueue = 0
	}
	o.QueueTimeout = orDefault(o.QueueTimeout, 30*time.Second)
	o.StartupTimeout = orDefault(o.StartupTimeout, 30*time.Second)
	o.GracefulTimeout = orDefault(o.GracefulTimeout, 30*time.Second)
	if o.StartupPath == "" {
		o.StartupPath = "/"
	}
	if o.StopSignal == 0 {
		o.StopSignal = syscall.SIGTERM
	}
	switch {
	case o.MaxBodySpool == 0:
		o.MaxBodySpool = 10 << 20
	case o.MaxBodySpool < 0:
		o.MaxBodySpool = 0
	}
	if o.Protocol == "" {
		o.Protocol = "http"
	}
	if o.Listen == "" {
		o.Listen = "unix"
	}
	switch {
	case o.Workers < 0 || o.Concurrency < 0 || o.MaxRequests < 0 || o.MaxRequestsJitter < 0 || o.MemoryLimit < 0:
		return nil, errors.New("process: negative workers, concurrency, max_requests, max_requests_jitter or memory_limit")
	case !slices.Contains([]string{"http", "scgi", "uwsgi", "fastcgi"}, o.Protocol):
		return nil, fmt.Errorf("process: unknown protocol %q (http, scgi, uwsgi, fastcgi)", o.Protocol)
	case o.Listen != "unix" && o.Listen != "tcp":
		return nil, fmt.Errorf("process: listen is %q, not unix or tcp", o.Listen)
	case !strings.HasPrefix(o.StartupPath, "/"):
		return nil, fmt.Errorf("process: startup path %q does not start with /", o.StartupPath)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Pool{opts: o, log: log, closed: make(chan struct{}), mode: "fd"}
	cmd := strings.Join(o.Command, "\x00")
	switch {
	case strings.Contains(cmd, "{socket}") && strings.Contains(cmd, "{port}"):
		return nil, errors.New("process: the command names both {socket} and {port}")
	case strings.Contains(cmd, "{socket}"):
		p.mode = "socket"
	case strings.Contains(cmd, "{port}"):
		p.mode = "port"
	}
	cred, err := credential(o.User, o.Group)
	if err != nil {
		return nil, err
	}
	p.cred = cred
	p.stackSig = o.StackSignal
	if p.stackSig == 0 {
		p.stackSig = GuessStackSignal(o.Command[0])
	}
	p.env = append(os.Environ(), o.Env...)
	p.dir = o.RuntimeDir
	needDir := !o.CheckOnly && (p.mode == "socket" || p.mode == "fd" && o.Listen == "unix")
	if p.dir != "" && needDir {
		if err := os.MkdirAll(p.dir, 0o755); err != nil {
			return nil, fmt.Errorf("process: runtime directory: %w", err)
		}
	}
	if p.dir == "" && needDir {
		if p.dir, err = os.MkdirTemp("", "gopaste-process-"); err != nil {
			return nil, fmt.Errorf("process: runtime directory: %w", err)
		}
		p.ownDir = true
		if cred != nil {
			// The workers bind their {socket} here as that user.
			os.Chown(p.dir, int(cred.Uid), int(cred.Gid))
		}
	}
	po := proxy.Options{
		// One backend stands for the pool: the transport below picks the
		// worker, so the proxy's own balancing and checks never apply.
		Backends:     []proxy.Backend{{Addr: "process"}},
		NewTransport: func(proxy.Backend) http.RoundTripper { return (*transport)(p) },
		Logger:       log,
		MaxBodySpool: o.MaxBodySpool,
	}
	if o.Protocol == "http" {
		po.HTTP = true // http_proxy's path: its own client for plain requests
	} else {
		po.RequireLength = true
	}
	if p.proxy, err = proxy.New(po); err != nil {
		p.removeDir()
		return nil, fmt.Errorf("process: %w", err)
	}
	return p, nil
}

// GuessStackSignal returns the signal that makes program write its
// stack: SIGQUIT for a Go binary, SIGUSR1 for python* (meaning a worker
// that registered faulthandler on it), else NoSignal.
func GuessStackSignal(program string) syscall.Signal {
	base := filepath.Base(program)
	if strings.HasPrefix(base, "python") {
		return syscall.SIGUSR1
	}
	path := program
	if !strings.Contains(program, "/") {
		var err error
		if path, err = lookPath(program); err != nil {
			return NoSignal
		}
	}
	if _, err := buildinfo.ReadFile(path); err == nil {
		return syscall.SIGQUIT
	}
	return NoSignal
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// supervise keeps worker slot running from its first process (nil: it
// starts one) until ctx, the slot's, ends: the pool closes, or
// AddWorkers takes the slot away.
func (p *Pool) supervise(ctx context.Context, slot int, first *child) {
	cur := first
	r := &proc.Restart{
		Start: func(ctx context.Context) (*proc.Process, error) {
			if first != nil {
				first = nil
				return cur.proc, nil
			}
			c, err := p.spawn(ctx, slot)
			if err != nil {
				return nil, err
			}
			cur = c
			return c.proc, nil
		},
		Expected: func(*proc.Process) bool { return cur.recycled.Load() },
		MinDelay: p.opts.MinRestartDelay,
		MaxDelay: p.opts.MaxRestartDelay,
		Logger:   p.log,
	}
	r.Run(ctx)
}

// AddWorkers changes the number of workers by delta and returns the new
// number ("gopaste serve" calls it on SIGTTIN and SIGTTOU, as gunicorn
// takes them). A worker added starts in the background and takes
// requests once ready; one that cannot start is retried as a worker
// that died would be. A worker taken away, the highest numbered, takes
// no new request, finishes those it has, and is then stopped like one
// recycled, but not replaced. The last worker stays: a delta that would
// leave none is an error, and changes nothing.
func (p *Pool) AddWorkers(delta int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		return len(p.slots), errClosed
	default:
	}
	if p.opts.CheckOnly {
		return 0, errors.New("process: a check-only pool runs no workers")
	}
	n := len(p.slots) + delta
	if n < 1 {
		return len(p.slots), fmt.Errorf("process: %d workers and %+d would leave none; the last one stays", len(p.slots), delta)
	}
	for len(p.slots) < n {
		slot := len(p.slots) + 1
		ctx, cancel := context.WithCancel(p.ctx)
		p.slots = append(p.slots, cancel)
		p.wg.Go(func() { p.supervise(ctx, slot, nil) })
	}
	for len(p.slots) > n {
		slot := len(p.slots)
		p.retireLocked(slot, p.slots[slot-1])
		p.slots = p.slots[:slot-1]
	}
	if p.opts.ReserveCPUs {
		supervised.Add(int64(delta))
		p.supervised += int64(delta)
	}
	p.log.Info("workers changed", "workers", n, "by", delta)
	return n, nil
}

// SetConcurrency changes how many requests each worker serves at once
// (Options.Concurrency) while the pool runs, for workers whose capacity
// changed: the wsgi app's preloading master, which serves through the
// children it forks, when it forks one more or stops one. The workers'
// connections follow; queued requests take the new room at once.
func (p *Pool) SetConcurrency(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	less := n < p.opts.Concurrency
	p.opts.Concurrency = n
	for _, c := range p.children {
		if s, ok := c.rt.(interface{ SetMaxConns(int) }); ok {
			s.SetMaxConns(n)
		}
		if less {
			// A child that stops waits for its kept connections to
			// close; which ones are its, only it knows.
			c.closeIdle()
		}
	}
	p.dispatchLocked()
}

// Signal sends sig to every worker that runs.
func (p *Pool) Signal(sig syscall.Signal) {
	p.mu.Lock()
	procs := make([]*proc.Process, 0, len(p.children))
	for _, c := range p.children {
		procs = append(procs, c.proc)
	}
	p.mu.Unlock()
	for _, pr := range procs {
		pr.Signal(sig)
	}
}

// retireLocked ends worker slot for good: end, the slot's cancel, ends
// its supervisor, which stops the worker (or its start, or its wait to
// be restarted); a worker with requests is first taken out of the
// rotation, and stopped once they are done (release).
func (p *Pool) retireLocked(slot int, end context.CancelFunc) {
	for _, c := range p.children {
		if c.slot != slot || c.state == stateStopping {
			continue
		}
		c.retire = func() {
			c.closeIdle() // a worker waits for its kept connections to close
			end()
		}
		if c.busy > 0 {
			c.state = stateRecycling
			return
		}
		c.state = stateStopping
		c.retire()
		return
	}
	end()
}

// Close stops taking requests (queued ones get 503), waits up to
// GracefulTimeout for those in flight, then stops the workers (see
// Options.StopSignal) and removes the runtime directory it made.
func (p *Pool) Close() error {
	p.closeMu.Do(func() {
		p.mu.Lock()
		close(p.closed) // under mu: AddWorkers starts no supervisor after it
		var drained chan struct{}
		if p.inflight > 0 {
			drained = make(chan struct{})
			p.drained = drained
		}
		p.mu.Unlock()
		if drained != nil {
			t := time.NewTimer(p.opts.GracefulTimeout)
			select {
			case <-drained:
			case <-t.C:
				p.mu.Lock()
				n := p.inflight
				p.mu.Unlock()
				p.log.Warn("stopping workers with requests in flight", "requests", n, "graceful_timeout", p.opts.GracefulTimeout)
			}
			t.Stop()
		}
		// Idle pooled connections would hold up a worker's own graceful
		// shutdown.
		p.mu.Lock()
		for _, c := range p.children {
			c.closeIdle()
		}
		n := p.supervised
		p.mu.Unlock()
		p.stop()
		p.wg.Wait()
		p.proxy.Close()
		p.removeDir()
		supervised.Add(-n)
	})
	return nil
}

// findCommand reports whether program can be run as a worker's
// command, as proc.Start runs it: found in PATH when it has no slash,
// else an executable file (relative to dir when relative).
func findCommand(program, dir string) error {
	if strings.Contains(program, "{") {
		return nil // a placeholder: known only per worker
	}
	if !strings.Contains(program, "/") {
		if _, err := exec.LookPath(program); err != nil {
			return fmt.Errorf("process: command %q not found in PATH", program)
		}
		return nil
	}
	if !isExecutable(program, dir) {
		return fmt.Errorf("process: command %q is not an executable file", program)
	}
	return nil
}

// isExecutable reports whether file (relative to dir when relative) is
// a regular file with an execute bit.
func isExecutable(file, dir string) bool {
	if !filepath.IsAbs(file) && dir != "" {
		file = filepath.Join(dir, file)
	}
	fi, err := os.Stat(file)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func (p *Pool) removeDir() {
	if p.ownDir {
		os.RemoveAll(p.dir)
	}
}

// request is one request through the pool: the worker it holds (which
// changes when it is retried) and what the status page and the timeout
// logs say about it.
type request struct {
	method, path string
	start        time.Time
	pipelined    bool // may be written behind others (Options.Pipeline)

	w         *child      // guarded by Pool.mu
	hard      *time.Timer // HardTimeout's, nil without one
	hardFired atomic.Bool
	detached  atomic.Bool // past Timeout: the drain releases it
}

type reqKey struct{}

// waiter is a request queued for a worker.
type waiter struct {
	rq       *request
	ready    chan struct{} // closed once assigned
	assigned bool          // guarded by Pool.mu
}

var (
	errQueueFull    = errors.New("process: queue full")
	errQueueTimeout = errors.New("process: no worker free within queue_timeout")
	errClosed       = errors.New("process: closed")
)

func (p *Pool) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{method: r.Method, path: r.URL.Path, start: time.Now()}
	rq.pipelined = p.opts.Pipeline > 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		(r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0)
	if err := p.acquire(r.Context(), rq); err != nil {
		if r.Context().Err() != nil {
			w.WriteHeader(499) // the client went away; only the access log sees it
			return
		}
		p.log.Warn("request refused", "method", r.Method, "path", r.URL.Path, "status", http.StatusServiceUnavailable, "err", err)
		p.observe(http.StatusServiceUnavailable, rq.start)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "503 Service Unavailable: all workers busy, try again shortly", http.StatusServiceUnavailable)
		return
	}
	if p.opts.HardTimeout > 0 {
		rq.hard = time.AfterFunc(p.opts.HardTimeout, func() { p.hardTimeout(rq) })
	}
	defer func() {
		if !rq.detached.Load() {
			p.release(rq, true)
		}
	}()
	p.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqKey{}, rq)))
}

// acquire assigns rq a worker, waiting in the queue when none is free.
func (p *Pool) acquire(ctx context.Context, rq *request) error {
	p.mu.Lock()
	select {
	case <-p.closed:
		p.mu.Unlock()
		return errClosed
	default:
	}
	// Not past a request already waiting: with Pipeline, room behind a
	// busy request would otherwise let GETs pass a POST for good.
	if len(p.waiters) == 0 {
		if c := p.pickLocked(rq); c != nil {
			p.assignLocked(c, rq)
			p.inflight++
			p.mu.Unlock()
			return nil
		}
	}
	if len(p.waiters) >= p.opts.MaxQueue {
		p.mu.Unlock()
		return errQueueFull
	}
	wt := &waiter{rq: rq, ready: make(chan struct{})}
	p.waiters = append(p.waiters, wt)
	p.inflight++
	p.mu.Unlock()
	if err := p.await(ctx, wt); err != nil {
		p.mu.Lock()
		p.doneLocked()
		p.mu.Unlock()
		return err
	}
	return nil
}

// await waits until queued wt is assigned a worker; when it gives up
// (ctx, QueueTimeout, Close) it leaves the queue.
func (p *Pool) await(ctx context.Context, wt *waiter) error {
	t := time.NewTimer(p.opts.QueueTimeout)
	defer t.Stop()
	var err error
	select {
	case <-wt.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
		err = errQueueTimeout
	case <-p.closed:
		err = errClosed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if wt.assigned {
		return nil // assigned as it gave up: the caller sends it, or fails fast
	}
	p.waiters = slices.DeleteFunc(p.waiters, func(o *waiter) bool { return o == wt })
	return err
}

// pickLocked returns the least busy ready worker with room for rq,
// rotating among equals; nil when none has room. With Pipeline, a
// worker has room for a pipelined request up to Concurrency ×
// (1 + Pipeline).
func (p *Pool) pickLocked(rq *request) *child {
	room := p.opts.Concurrency
	if rq.pipelined {
		room *= 1 + p.opts.Pipeline
	}
	var best *child
	n := len(p.children)
	for i := range n {
		c := p.children[(p.next+i)%n]
		if c.state != stateReady || c.busy >= room {
			continue
		}
		if best == nil || c.busy < best.busy {
			best = c
		}
	}
	if best != nil {
		p.next++
	}
	return best
}

func (p *Pool) assignLocked(c *child, rq *request) {
	c.busy++
	c.served++
	c.reqs = append(c.reqs, rq)
	rq.w = c
	if c.maxRequests > 0 && c.served >= c.maxRequests {
		p.recycleLocked(c, "max_requests", "requests", c.served)
	}
}

// recycleLocked takes c out of the rotation; it stops once idle.
func (p *Pool) recycleLocked(c *child, reason string, args ...any) {
	if c.state != stateReady {
		return
	}
	c.state = stateRecycling
	p.log.Info("recycling worker", append([]any{"pid", c.pid, "reason", reason}, args...)...)
}

// release frees rq's worker (and ends rq when final), stops the worker
// when it is due for recycling and idle, and hands the room to a queued
// request.
func (p *Pool) release(rq *request, final bool) {
	var rss int64
	if p.opts.MemoryLimit > 0 {
		p.mu.Lock()
		c := rq.w
		p.mu.Unlock()
		if c != nil {
			rss = proc.RSS(c.pid) // outside the lock: a file read
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := rq.w; c != nil {
		rq.w = nil
		c.busy--
		c.reqs = slices.DeleteFunc(c.reqs, func(o *request) bool { return o == rq })
		if p.opts.MemoryLimit > 0 && rss > p.opts.MemoryLimit {
			p.recycleLocked(c, "memory_limit", "rss", rss, "memory_limit", p.opts.MemoryLimit)
		}
		if c.state == stateRecycling && c.busy == 0 {
			c.state = stateStopping
			if c.retire != nil {
				go c.retire() // taken away by AddWorkers: not replaced
			} else {
				c.recycled.Store(true)
				go c.stop()
			}
		}
	}
	if final {
		if rq.hard != nil {
			rq.hard.Stop()
		}
		p.doneLocked()
	}
	p.dispatchLocked()
}

// doneLocked ends one request in flight.
func (p *Pool) doneLocked() {
	p.inflight--
	if p.inflight == 0 && p.drained != nil {
		close(p.drained)
		p.drained = nil
	}
}

// dispatchLocked assigns free workers to queued requests, oldest first.
func (p *Pool) dispatchLocked() {
	for len(p.waiters) > 0 {
		wt := p.waiters[0]
		c := p.pickLocked(wt.rq)
		if c == nil {
			return
		}
		p.waiters = p.waiters[1:]
		p.assignLocked(c, wt.rq)
		wt.assigned = true
		close(wt.ready)
	}
}

// reassign moves rq from its dead worker to another, waiting in the
// queue as a new request would.
func (p *Pool) reassign(ctx context.Context, rq *request) error {
	p.release(rq, false)
	p.mu.Lock()
	if c := p.pickLocked(rq); c != nil {
		p.assignLocked(c, rq)
		p.mu.Unlock()
		return nil
	}
	wt := &waiter{rq: rq, ready: make(chan struct{})}
	// A retried request goes first: it has waited already.
	p.waiters = append([]*waiter{wt}, p.waiters...)
	p.mu.Unlock()
	return p.await(ctx, wt)
}

// hardTimeout kills rq's worker: the stack signal, a second for the
// dump, then SIGKILL to its group.
func (p *Pool) hardTimeout(rq *request) {
	p.mu.Lock()
	c := rq.w
	if c == nil {
		p.mu.Unlock()
		return
	}
	rq.hardFired.Store(true)
	c.state = stateStopping
	p.mu.Unlock()
	p.log.Error("request passed hard_timeout, killing its worker", "pid", c.pid, "method", rq.method, "path", rq.path,
		"duration", time.Since(rq.start).Round(time.Millisecond), "stack_signal", signalName(p.stackSig))
	if p.stackSig != NoSignal {
		if c.proc.Signal(p.stackSig) == nil {
			t := time.NewTimer(time.Second)
			select {
			case <-c.proc.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
	c.proc.Kill()
}

func signalName(s syscall.Signal) string {
	if s == NoSignal {
		return "none"
	}
	return s.String()
}

var _ http.Handler = (*Pool)(nil)
var _ io.Closer = (*Pool)(nil)
