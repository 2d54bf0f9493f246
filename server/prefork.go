package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/admin"
	"github.com/gopaste/gopaste/proc"
)

// Prefork is the master of the prefork model: it runs Workers processes
// (Resize changes how many), each a re-execution of this program (Path,
// Args) that inherits the listener and serves it (threaded, see
// [Inherit]), and keeps them running:
//
//   - a worker that dies is started again, after a delay that doubles
//     from 100ms to 30s while workers keep dying young (under 10s);
//   - a worker that asks to be recycled (its max_requests were served)
//     is replaced: the new one is started and ready before the old one
//     gets SIGTERM, stops accepting and drains, so some worker always
//     accepts;
//   - [Prefork.Roll] replaces them all, one by one, the same way (a
//     reload);
//   - when Run's context ends they all get SIGTERM and drain within
//     StopTimeout, then are killed.
//
// A Prefork must not be copied; Start, then Run; Roll and Signal may be
// called from other goroutines while Run runs.
type Prefork struct {
	Workers int // at least 1
	// Path and Args are the program a worker runs (Args[0] included);
	// the worker's role is added to its environment.
	Path string
	Args []string
	// Listener is the listening socket, passed to each worker as fd 3.
	Listener *os.File
	// Stdout and Stderr are the workers'; nil discards.
	Stdout, Stderr io.Writer
	Logger         *slog.Logger // nil means slog.Default()
	// StartTimeout bounds the wait for a new worker to say it is ready;
	// zero means one minute.
	StartTimeout time.Duration
	// StopTimeout is how long a stopping worker has to drain before it
	// is killed; zero means 35s (the default graceful_timeout and 5s).
	StopTimeout time.Duration
	// Hub, when set, takes the workers' reports (the lines
	// [ReportPrefix] starts, sent when their server has
	// AdminOptions.Report): their request counts are merged into its
	// series, so that the master's admin listener counts every worker's
	// requests. Add [Prefork.Source] to the hub for its worker table.
	Hub *admin.Hub

	retiring sync.WaitGroup
	running  sync.WaitGroup // the slots' supervise loops

	mu       sync.Mutex
	slots    []*workerSlot
	runCtx   context.Context  // Run's, once it runs: the context new slots are supervised in
	runEnded bool             // Run's context ended: Resize adds no slot
	stopping map[*worker]bool // retiring workers, for Workers

	outOnce        sync.Once
	stdout, stderr io.Writer // Stdout and Stderr, safe for the workers to share
}

// shared returns w for several processes to write to: an *os.File is
// passed to them as it is; another writer gets their output through
// copying goroutines, which a lock keeps from writing at once.
func shared(w io.Writer) io.Writer {
	switch w := w.(type) {
	case nil:
		return io.Discard
	case *os.File:
		return w
	default:
		return &lockedWriter{w: w}
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (lw *lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

// workerSlot is one worker position: the worker serving in it and requests to
// replace it.
type workerSlot struct {
	n       int
	mu      sync.Mutex
	cur     *worker // nil while it is being restarted
	replace chan chan error
	drop    chan struct{} // closed when Resize takes the slot away
}

func newSlot(n int) *workerSlot {
	return &workerSlot{n: n, replace: make(chan chan error), drop: make(chan struct{})}
}

// slotList is a copy of m's slots, for reading without m.mu held.
func (m *Prefork) slotList() []*workerSlot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.slots)
}

type worker struct {
	p       *proc.Process
	ctl     *control
	started time.Time
	ready   chan struct{} // closed on "ready"
	recycle chan struct{} // closed on "recycle"

	mu     sync.Mutex
	report admin.Report // the latest, without its series

	readDone chan struct{} // closed once read has had the worker's last line
}

// closeControl closes the master's end of w's control socket once the
// worker's last lines (its last report) were read, or after a second.
func (w *worker) closeControl() {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-w.readDone:
	case <-t.C:
	}
	w.ctl.f.Close()
}

func (m *Prefork) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.Default()
	}
	return m.Logger
}

// Start starts the workers and waits until they are all ready. When one
// fails, those started are stopped and the error says why.
func (m *Prefork) Start(ctx context.Context) error {
	if m.Workers < 1 {
		return errors.New("server: prefork needs at least 1 worker")
	}
	m.mu.Lock()
	for i := range m.Workers {
		m.slots = append(m.slots, newSlot(i+1))
	}
	m.mu.Unlock()
	errs := make([]error, len(m.slots))
	var wg sync.WaitGroup
	for i, s := range m.slotList() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.cur, errs[i] = m.spawn(ctx, s.n)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range m.slotList() {
			if s.cur != nil {
				m.retire(s.cur, "")
			}
		}
		m.retiring.Wait()
		return err
	}
	return nil
}

// Run supervises the workers until ctx ends, then stops them all
// gracefully and returns once they have exited.
func (m *Prefork) Run(ctx context.Context) {
	m.mu.Lock()
	m.runCtx = ctx
	for _, s := range m.slots {
		m.superviseLocked(s)
	}
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	m.runEnded = true // no supervise loop starts after this
	m.mu.Unlock()
	m.running.Wait()
	m.retiring.Wait()
}

// superviseLocked starts s's supervise loop in Run's context.
func (m *Prefork) superviseLocked(s *workerSlot) {
	ctx := m.runCtx
	m.running.Add(1)
	go func() {
		defer m.running.Done()
		m.supervise(ctx, s)
	}()
}

// Resize changes the number of workers to n (at least 1) once Start has
// succeeded, as a reload with another "workers" asks: new workers are
// started (each ready before the next) and supervised like the others;
// the workers beyond n drain and stop, as on a roll. It stops at the
// first new worker that does not start, leaving those started serving.
func (m *Prefork) Resize(ctx context.Context, n int) error {
	if n < 1 {
		return errors.New("server: prefork needs at least 1 worker")
	}
	m.mu.Lock()
	if len(m.slots) == 0 {
		m.mu.Unlock()
		return errors.New("server: Resize before Start")
	}
	var unsupervised []*worker // before Run, no supervise loop retires them
	for len(m.slots) > n {
		s := m.slots[len(m.slots)-1]
		m.slots = m.slots[:len(m.slots)-1]
		if m.runCtx == nil {
			s.mu.Lock()
			if s.cur != nil {
				unsupervised = append(unsupervised, s.cur)
			}
			s.mu.Unlock()
			continue
		}
		close(s.drop)
	}
	have := len(m.slots)
	m.mu.Unlock()
	for _, w := range unsupervised {
		m.retire(w, "workers")
	}
	for i := have + 1; i <= n; i++ {
		s := newSlot(i)
		w, err := m.spawn(ctx, i)
		if err != nil {
			return err
		}
		s.cur = w
		m.mu.Lock()
		if m.runEnded { // Run would not wait for this one
			m.mu.Unlock()
			m.retire(w, "")
			return errors.New("server: Resize after Run ended")
		}
		m.slots = append(m.slots, s)
		if m.runCtx != nil {
			m.superviseLocked(s)
		} // else Run supervises it with the others
		m.mu.Unlock()
	}
	return nil
}

// Roll replaces every worker, one after the other: the new one is ready
// before the old one is told to drain. It stops at the first worker that
// does not start; the workers not yet replaced go on serving.
func (m *Prefork) Roll(ctx context.Context) error {
	for _, s := range m.slotList() {
		reply := make(chan error, 1)
		select {
		case s.replace <- reply:
		case <-s.drop:
			continue // Resize took it away
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := <-reply; err != nil {
			return err
		}
	}
	return nil
}

// Signal sends sig to every worker (SIGUSR1: reopen the log files).
func (m *Prefork) Signal(sig syscall.Signal) {
	for _, s := range m.slotList() {
		s.mu.Lock()
		if s.cur != nil {
			s.cur.p.Signal(sig)
		}
		s.mu.Unlock()
	}
}

// Pids returns the workers' pids, in slot order (0 for a slot whose
// worker is being restarted).
func (m *Prefork) Pids() []int {
	var out []int
	for _, s := range m.slotList() {
		s.mu.Lock()
		pid := 0
		if s.cur != nil {
			pid = s.cur.p.Pid()
		}
		s.mu.Unlock()
		out = append(out, pid)
	}
	return out
}

const (
	minRestartDelay = 100 * time.Millisecond
	maxRestartDelay = 30 * time.Second
	stableRun       = 10 * time.Second
)

// supervise keeps slot s served until ctx ends.
func (m *Prefork) supervise(ctx context.Context, s *workerSlot) {
	log := m.logger().With("worker", s.n)
	delay := minRestartDelay
	var restart, retryRecycle <-chan time.Time
	var recycle <-chan struct{} // the current worker's request, until handled
	set := func(w *worker) {
		s.mu.Lock()
		s.cur = w
		s.mu.Unlock()
		recycle, retryRecycle = nil, nil
		if w != nil {
			recycle = w.recycle
			restart = nil // a roll filled the slot while it waited
		}
	}
	set(s.cur)
	// replaceWith starts a worker for the slot and retires the current
	// one once the new one is ready.
	replaceWith := func(why string) error {
		nw, err := m.spawn(ctx, s.n)
		if err != nil {
			return err
		}
		if old := s.cur; old != nil {
			m.retire(old, why)
		}
		set(nw)
		return nil
	}
	for {
		var done <-chan struct{}
		if s.cur != nil {
			done = s.cur.p.Done()
		}
		select {
		case <-ctx.Done():
			if s.cur != nil {
				m.retire(s.cur, "")
			}
			return
		case <-s.drop:
			if s.cur != nil {
				m.retire(s.cur, "workers")
			}
			return
		case <-done:
			w := s.cur
			set(nil)
			w.closeControl()
			if time.Since(w.started) >= stableRun {
				delay = minRestartDelay
			}
			log.Warn("worker exited", "pid", w.p.Pid(), "status", proc.ExitStatus(w.p.Err()), "restart_in", delay.String())
			restart = time.After(delay)
			delay = min(2*delay, maxRestartDelay) // for the next exit, unless this run was stable
		case <-restart:
			restart = nil
			w, err := m.spawn(ctx, s.n)
			if err != nil {
				log.Warn("worker start failed", "err", err, "retry_in", delay.String())
				restart = time.After(delay)
				delay = min(2*delay, maxRestartDelay)
				continue
			}
			set(w)
		case <-recycle:
			recycle = nil
			log.Info("recycling worker", "pid", s.cur.p.Pid(), "reason", "max_requests")
			if err := replaceWith("max_requests"); err != nil {
				log.Warn("replacement worker did not start; the worker goes on serving", "err", err, "retry_in", delay.String())
				retryRecycle = time.After(delay)
				delay = min(2*delay, maxRestartDelay)
			}
		case <-retryRecycle:
			retryRecycle = nil
			if err := replaceWith("max_requests"); err != nil {
				log.Warn("replacement worker did not start; the worker goes on serving", "err", err, "retry_in", delay.String())
				retryRecycle = time.After(delay)
				delay = min(2*delay, maxRestartDelay)
			}
		case reply := <-s.replace:
			reply <- replaceWith("reload")
		}
	}
}

// spawn starts worker n and waits until it is ready.
func (m *Prefork) spawn(ctx context.Context, n int) (*worker, error) {
	ctl, childEnd, err := newControl()
	if err != nil {
		return nil, err
	}
	m.outOnce.Do(func() { m.stdout, m.stderr = shared(m.Stdout), shared(m.Stderr) })
	stdout, stderr := m.stdout, m.stderr
	grace := m.StopTimeout
	if grace <= 0 {
		grace = 35 * time.Second
	}
	p, err := proc.Start(context.WithoutCancel(ctx), proc.Cmd{
		Path:       m.Path,
		Args:       m.Args,
		Env:        childEnv(RoleWorker + ":" + strconv.Itoa(n)),
		ExtraFiles: []*os.File{m.Listener, childEnd},
		Stdout:     stdout,
		Stderr:     stderr,
		Grace:      grace,
		Logger:     m.Logger,
	})
	childEnd.Close()
	if err != nil {
		ctl.f.Close()
		return nil, fmt.Errorf("server: worker %d: %w", n, err)
	}
	w := &worker{p: p, ctl: ctl, started: time.Now(), ready: make(chan struct{}), recycle: make(chan struct{}),
		readDone: make(chan struct{})}
	go w.read(m.Hub, m.logger().With("worker", n, "pid", p.Pid()))
	timeout := m.StartTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-w.ready:
		m.logger().Info("worker ready", "worker", n, "pid", p.Pid())
		return w, nil
	case <-p.Done():
		ctl.f.Close()
		return nil, fmt.Errorf("server: worker %d (pid %d) exited before it was ready: %s", n, p.Pid(), proc.ExitStatus(p.Err()))
	case <-t.C:
		err = fmt.Errorf("server: worker %d (pid %d) not ready after %s", n, p.Pid(), timeout)
	case <-ctx.Done():
		err = fmt.Errorf("server: worker %d: %w", n, ctx.Err())
	}
	p.Kill()
	<-p.Done()
	ctl.f.Close()
	return nil, err
}

// read turns the worker's messages into w's channels, and its reports
// into hub's counts (when hub is set).
func (w *worker) read(hub *admin.Hub, log *slog.Logger) {
	defer close(w.readDone)
	var readyOnce, recycleOnce sync.Once
	for msg := range w.ctl.msgs {
		switch msg {
		case "ready":
			readyOnce.Do(func() { close(w.ready) })
		case "recycle":
			recycleOnce.Do(func() { close(w.recycle) })
		default:
			js, ok := strings.CutPrefix(msg, ReportPrefix)
			if !ok || hub == nil {
				continue
			}
			var rep admin.Report
			if err := json.Unmarshal([]byte(js), &rep); err != nil {
				log.Warn("bad report from a worker", "err", err)
				continue
			}
			hub.Merge(rep)
			rep.Mounts, rep.Backends = nil, nil
			w.mu.Lock()
			w.report = rep
			w.mu.Unlock()
		}
	}
}

// Source returns m as the admin hub's worker source: the workers (pool
// "prefork") with their pid, state ("ready", "busy" while serving,
// "stopping" while they drain), requests served and the oldest request
// they serve (as of their latest report), resident memory and start.
func (m *Prefork) Source() admin.WorkerSource { return workerTable{m} }

type workerTable struct{ m *Prefork }

func (t workerTable) Workers() []admin.Worker { return t.m.table() }

func (m *Prefork) table() []admin.Worker {
	var ws []*worker
	for _, s := range m.slotList() {
		s.mu.Lock()
		if s.cur != nil {
			ws = append(ws, s.cur)
		}
		s.mu.Unlock()
	}
	m.mu.Lock()
	for w := range m.stopping {
		ws = append(ws, w)
	}
	stopping := maps.Clone(m.stopping)
	m.mu.Unlock()
	out := make([]admin.Worker, 0, len(ws))
	for _, w := range ws {
		w.mu.Lock()
		rep := w.report
		w.mu.Unlock()
		state := "ready"
		switch {
		case stopping[w]:
			state = "stopping"
		case rep.Current != nil:
			state = "busy"
		}
		out = append(out, admin.Worker{Pool: "prefork", PID: w.p.Pid(), State: state, Requests: rep.Requests,
			RSS: proc.RSS(w.p.Pid()), Started: w.started, Current: rep.Current})
	}
	return out
}

// retire stops w in the background: SIGTERM, drain, kill after the
// grace. why, when set, is logged.
func (m *Prefork) retire(w *worker, why string) {
	m.retiring.Add(1)
	m.mu.Lock()
	if m.stopping == nil {
		m.stopping = map[*worker]bool{}
	}
	m.stopping[w] = true
	m.mu.Unlock()
	go func() {
		defer m.retiring.Done()
		err := w.p.Stop()
		w.closeControl()
		m.mu.Lock()
		delete(m.stopping, w)
		m.mu.Unlock()
		if why != "" {
			m.logger().Info("worker retired", "pid", w.p.Pid(), "reason", why, "status", proc.ExitStatus(err))
		}
	}()
}

// MaxRequests counts the requests h serves in a prefork worker: once
// o.MaxRequests (plus a random 0..o.MaxRequestsJitter) have started, it
// calls recycle, once. Without MaxRequests h is returned as is.
func MaxRequests(h http.Handler, o Options, recycle func()) http.Handler {
	if o.MaxRequests <= 0 {
		return h
	}
	limit := int64(o.MaxRequests)
	if o.MaxRequestsJitter > 0 {
		limit += rand.Int64N(int64(o.MaxRequestsJitter) + 1)
	}
	return &counted{h: h, limit: limit, recycle: recycle}
}

// counted is the handler MaxRequests returns.
type counted struct {
	h       http.Handler
	n       atomic.Int64
	limit   int64
	recycle func()
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.n.Add(1) == c.limit {
		c.recycle()
	}
	c.h.ServeHTTP(w, r)
}

// ConnContext passes the connection to h's ConnContext, if it has one.
func (c *counted) ConnContext(ctx context.Context, conn net.Conn) context.Context {
	if cc, ok := c.h.(ConnContexter); ok {
		return cc.ConnContext(ctx, conn)
	}
	return ctx
}
