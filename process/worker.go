package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/fastcgi"
	"github.com/gopaste/gopaste/proc"
	"github.com/gopaste/gopaste/proxy"
	"github.com/gopaste/gopaste/scgi"
	"github.com/gopaste/gopaste/uwsgi"
)

// Worker states, as Worker.State gives them.
const (
	stateStarting  = "starting"  // started, not yet ready
	stateReady     = "ready"     // takes requests
	stateRecycling = "recycling" // finishing its requests, then stops
	stateStopping  = "stopping"  // stopped or killed, not yet exited
)

// child is one worker process.
type child struct {
	slot     int
	pid      int
	proc     *proc.Process
	addr     string // "unix:/path" or "127.0.0.1:port"
	sockPath string // removed once the worker exited
	rt       http.RoundTripper
	started  time.Time
	recycled atomic.Bool // stopped by a recycle: restart at once

	// Guarded by Pool.mu.
	retire func() // set when AddWorkers took the worker's slot away
	state  string
	busy   int
	served int64
	reqs   []*request

	maxRequests int64 // MaxRequests plus its jitter; 0 means none
}

// stderrTail is how much of a worker's stderr a start-up error shows.
const stderrTail = 4096

// spawn starts worker slot and waits until it is ready.
func (p *Pool) spawn(ctx context.Context, slot int) (*child, error) {
	n := p.seq.Add(1)
	c := &child{slot: slot}
	if m := p.opts.MaxRequests; m > 0 {
		c.maxRequests = int64(m)
		if j := p.opts.MaxRequestsJitter; j > 0 {
			c.maxRequests += rand.Int64N(int64(j) + 1)
		}
	}
	var files []*os.File
	var port string
	switch p.mode {
	case "socket":
		c.sockPath = filepath.Join(p.dir, fmt.Sprintf("w%d-%d.sock", slot, n))
		os.Remove(c.sockPath)
		c.addr = "unix:" + c.sockPath
	case "port":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("process: find a free port: %w", err)
		}
		c.addr = l.Addr().String()
		_, port, _ = net.SplitHostPort(c.addr)
		l.Close()
	default:
		f, err := p.listen(c, slot, n)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the worker has its copy
		files = []*os.File{f}
	}
	rep := strings.NewReplacer("{socket}", c.sockPath, "{port}", port, "{worker}", strconv.Itoa(slot))
	args := make([]string, len(p.opts.Command))
	for i, a := range p.opts.Command {
		args[i] = rep.Replace(a)
	}
	pr, err := proc.Start(ctx, proc.Cmd{
		Path: args[0], Args: args, Dir: p.opts.Dir, Env: p.env,
		ExtraFiles: files, ListenEnv: files != nil,
		StopSignal: p.opts.StopSignal, Grace: p.opts.GracefulTimeout,
		Logger: p.log, StderrTail: stderrTail, Credential: p.cred,
	})
	if err != nil {
		c.removeSocket()
		return nil, fmt.Errorf("process: worker %d: %w", slot, err)
	}
	c.proc, c.pid, c.started, c.state = pr, pr.Pid(), time.Now(), stateStarting
	p.mu.Lock()
	c.rt = p.newTransport(c.addr) // under mu: SetConcurrency sizes the children's
	p.children = append(p.children, c)
	p.mu.Unlock()
	go p.exited(c)
	if err := p.ready(ctx, c); err != nil {
		pr.Kill()
		<-pr.Done()
		return nil, err
	}
	p.mu.Lock()
	if c.state == stateStarting {
		c.state = stateReady
	}
	p.dispatchLocked()
	p.mu.Unlock()
	p.log.Debug("worker ready", "pid", c.pid, "worker", slot, "addr", c.addr)
	return c, nil
}

// listen opens the socket a worker gets as fd 3 and returns it as a
// file (the listener itself is closed: the worker holds the only copy,
// so its death closes the socket and resets what waits in its backlog).
func (p *Pool) listen(c *child, slot int, n int64) (*os.File, error) {
	var l net.Listener
	var err error
	if p.opts.Listen == "tcp" {
		l, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			c.addr = l.Addr().String()
		}
	} else {
		c.sockPath = filepath.Join(p.dir, fmt.Sprintf("w%d-%d.sock", slot, n))
		os.Remove(c.sockPath)
		var ul *net.UnixListener
		ul, err = net.ListenUnix("unix", &net.UnixAddr{Name: c.sockPath, Net: "unix"})
		if err == nil {
			ul.SetUnlinkOnClose(false)
			l = ul
			c.addr = "unix:" + c.sockPath
		}
	}
	if err != nil {
		return nil, fmt.Errorf("process: worker %d: listen: %w", slot, err)
	}
	defer l.Close()
	f, err := l.(interface{ File() (*os.File, error) }).File()
	if err != nil {
		return nil, fmt.Errorf("process: worker %d: listener file: %w", slot, err)
	}
	return f, nil
}

// ready waits until c answers: a request for a socket it was given, a
// connection for one it binds itself.
func (p *Pool) ready(ctx context.Context, c *child) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.StartupTimeout)
	defer cancel()
	go func() {
		select {
		case <-c.proc.Done():
			cancel() // an exit ends the probe at once
		case <-ctx.Done():
		}
	}()
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		var err error
		if p.mode == "fd" {
			err = p.probe(ctx, c)
		} else {
			b, _ := proxy.ParseBackend(c.addr)
			var conn net.Conn
			if conn, err = b.Dial(ctx, time.Second, nil); err == nil {
				conn.Close()
			}
		}
		if err == nil {
			return nil
		}
		t := time.NewTimer(delay)
		select {
		case <-c.proc.Done():
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		select {
		case <-c.proc.Done():
			return p.startError(c, "exited before it was ready ("+proc.ExitStatus(c.proc.Err())+")")
		default:
		}
		if ctx.Err() != nil {
			return p.startError(c, fmt.Sprintf("not ready within startup_timeout (%s): %v", p.opts.StartupTimeout, err))
		}
	}
}

// probe sends GET StartupPath to c; any reply means it is ready.
func (p *Pool) probe(ctx context.Context, c *child) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost"+p.opts.StartupPath, nil)
	if err != nil {
		return err
	}
	req.RemoteAddr = "127.0.0.1:0"
	req.RequestURI = p.opts.StartupPath
	res, err := c.rt.RoundTrip(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return nil
}

// startError says why worker c did not start, with the end of its
// stderr.
func (p *Pool) startError(c *child, why string) error {
	msg := fmt.Sprintf("process: worker %d (pid %d, %s) %s", c.slot, c.pid, p.opts.Command[0], why)
	select {
	case <-c.proc.Done():
	case <-time.After(100 * time.Millisecond): // its last words, if it is dying
	}
	if tail := strings.TrimSpace(c.proc.StderrTail()); tail != "" {
		msg += "; its stderr:\n" + tail
	}
	return errors.New(msg)
}

// exited waits for c's exit and takes it out of the pool.
func (p *Pool) exited(c *child) {
	<-c.proc.Done()
	p.remove(c)
	c.closeIdle()
	if cl, ok := c.rt.(io.Closer); ok {
		cl.Close()
	}
	c.removeSocket()
}

// closeIdle closes the connections kept open to c between requests: a
// worker being stopped should not find them, nor wait for their close.
func (c *child) closeIdle() {
	if cl, ok := c.rt.(interface{ CloseIdleConnections() }); ok {
		cl.CloseIdleConnections()
	}
}

// stop closes c's idle connections, then stops it (StopSignal, killed
// after GracefulTimeout).
func (c *child) stop() {
	c.closeIdle()
	c.proc.Stop()
}

// remove takes c, which exited, out of the rotation.
func (p *Pool) remove(c *child) {
	p.mu.Lock()
	p.children = slices.DeleteFunc(p.children, func(o *child) bool { return o == c })
	c.state = stateStopping
	p.mu.Unlock()
}

func (c *child) removeSocket() {
	if c.sockPath != "" {
		os.Remove(c.sockPath)
	}
}

// died reports whether c exited, waiting a little for a worker whose
// connection just broke, and takes it out of the rotation if so.
func (p *Pool) died(c *child) bool {
	t := time.NewTimer(500 * time.Millisecond)
	defer t.Stop()
	select {
	case <-c.proc.Done():
		p.remove(c)
		return true
	case <-t.C:
		return false
	}
}

// newTransport returns the client of protocol for a worker at addr;
// p.mu is held (Options.Concurrency may change: SetConcurrency).
func (p *Pool) newTransport(addr string) http.RoundTripper {
	switch p.opts.Protocol {
	case "uwsgi":
		// Keep-alive is negotiated per request: a worker built on
		// uwsgi.Server (or wsgi's worker.py) keeps the connection, one
		// that ignores the variable closes it as before.
		return &uwsgi.Transport{Addr: addr, KeepAlive: true, MaxIdleConns: p.opts.Concurrency,
			MaxConns: p.opts.Concurrency, Pipeline: p.opts.Pipeline}
	case "scgi":
		return &scgi.Transport{Addr: addr}
	case "fastcgi":
		return &fastcgi.Transport{Addr: addr, MaxConns: p.opts.Concurrency, Script: p.opts.Script, Logger: p.log}
	}
	b, _ := proxy.ParseBackend(addr)
	return proxy.NewHTTPTransport(b, proxy.Options{MaxIdleConns: p.opts.Concurrency})
}

// credential looks up user and group for the workers; nil when both
// are empty.
func credential(name, group string) (*syscall.Credential, error) {
	if name == "" && group == "" {
		return nil, nil
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("process: user and group need gopaste to run as root")
	}
	cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), NoSetGroups: true}
	if name != "" {
		u, err := user.Lookup(name)
		if err != nil {
			if u, err = user.LookupId(name); err != nil {
				return nil, fmt.Errorf("process: user %q: %w", name, err)
			}
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		cred.Uid, cred.Gid = uint32(uid), uint32(gid)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			if g, err = user.LookupGroupId(group); err != nil {
				return nil, fmt.Errorf("process: group %q: %w", group, err)
			}
		}
		gid, _ := strconv.ParseUint(g.Gid, 10, 32)
		cred.Gid = uint32(gid)
	}
	return cred, nil
}

var lookPath = exec.LookPath

// Worker is what the status page shows of one worker.
type Worker struct {
	Pid int `json:"pid"`
	// Worker is its number, 1 to Options.Workers.
	Worker int `json:"worker"`
	// State is "starting", "idle", "busy", "recycling" or "stopping".
	State string `json:"state"`
	// Requests is how many requests it was given.
	Requests int64 `json:"requests"`
	// RSS is its resident memory in bytes.
	RSS     int64     `json:"rss"`
	Started time.Time `json:"started"`
	// Request is the oldest request it is serving; nil when idle.
	Request *Request `json:"request,omitempty"`
}

// Request is a request in flight on a worker.
type Request struct {
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Since  time.Time `json:"since"`
}

// Workers returns the workers started and not yet exited, by number.
func (p *Pool) Workers() []Worker {
	p.mu.Lock()
	out := make([]Worker, 0, len(p.children))
	for _, c := range p.children {
		w := Worker{Pid: c.pid, Worker: c.slot, State: c.state, Requests: c.served, Started: c.started}
		if w.State == stateReady {
			w.State = "idle"
			if c.busy > 0 {
				w.State = "busy"
			}
		}
		if len(c.reqs) > 0 {
			rq := c.reqs[0]
			w.Request = &Request{Method: rq.method, Path: rq.path, Since: rq.start}
		}
		out = append(out, w)
	}
	p.mu.Unlock()
	for i := range out {
		out[i].RSS = proc.RSS(out[i].Pid)
	}
	slices.SortFunc(out, func(a, b Worker) int { return a.Worker - b.Worker })
	return out
}
