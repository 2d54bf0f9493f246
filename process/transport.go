package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/proc"
	"github.com/gopaste/gopaste/proxy"
)

// transport is the RoundTripper the pool's proxy calls: it sends the
// request to the worker ServeHTTP assigned, and to another one when
// that worker died under it and sending again is safe.
type transport Pool

// maxAttempts bounds how many workers one request is sent to.
const maxAttempts = 5

var (
	// errTimeout and errHardTimeout wrap DeadlineExceeded: the proxy
	// answers them 504.
	errTimeout     = fmt.Errorf("process: no reply within timeout: %w", context.DeadlineExceeded)
	errHardTimeout = fmt.Errorf("process: request killed at hard_timeout: %w", context.DeadlineExceeded)
)

// workerError is a request that failed on a worker; the proxy logs it
// and answers 502.
type workerError struct {
	pid    int
	status string // how the worker ended, "" when it lives
	err    error
}

func (e *workerError) Error() string {
	if e.status != "" {
		return fmt.Sprintf("process: worker %d died (%s): %v", e.pid, e.status, e.err)
	}
	return fmt.Sprintf("process: worker %d: %v", e.pid, e.err)
}

// Unwrap gives the cause, except a dial error: the proxy would take its
// one stand-in backend for down.
func (e *workerError) Unwrap() error {
	var oe *net.OpError
	if errors.As(e.err, &oe) && oe.Op == "dial" {
		return nil
	}
	return e.err
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := (*Pool)(t)
	rq, _ := req.Context().Value(reqKey{}).(*request)
	if rq == nil {
		return nil, errors.New("process: request did not come through the pool")
	}
	res, err := p.roundTrip(req, rq)
	if err == nil {
		// The worker is free once its reply is read, not once the
		// client has it: the next queued request goes to it while this
		// one's reply is still being written to a slow client.
		if res.Body == http.NoBody {
			p.release(rq, false)
		} else {
			res.Body = &releasingBody{ReadCloser: res.Body, release: func() { p.release(rq, false) }}
		}
	}
	if p.opts.Observe != nil {
		switch {
		case err != nil && req.Context().Err() != nil:
			p.observe(499, rq.start) // the client went away: not the worker's error
		case err != nil:
			p.observe(proxy.Status(err), rq.start)
		default:
			p.observe(res.StatusCode, rq.start)
		}
	}
	return res, err
}

// roundTrip sends req to rq's worker, and to others while that is safe.
func (p *Pool) roundTrip(req *http.Request, rq *request) (*http.Response, error) {
	var body *guardedBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &guardedBody{r: req.Body}
	}
	for attempt := 1; ; attempt++ {
		p.mu.Lock()
		c := rq.w
		p.mu.Unlock()
		if c == nil {
			return nil, errors.New("process: no worker")
		}
		out := req
		if body != nil {
			out = new(http.Request)
			*out = *req
			out.Body = body
		}
		res, err := p.send(c, rq, out, body)
		if err == nil {
			return res, nil
		}
		switch {
		case rq.hardFired.Load():
			return nil, errHardTimeout
		case errors.Is(err, errTimeout), req.Context().Err() != nil:
			return nil, err
		}
		// A request written behind another (Pipeline) whose connection
		// closed first was not served: the worker recycled or stopped,
		// or the request ahead failed. It goes again, like one whose
		// worker died.
		notServed := errors.Is(err, gateway.ErrNotServed)
		if !notServed && !p.died(c) {
			return nil, &workerError{pid: c.pid, err: err}
		}
		var status string
		if !notServed {
			status = proc.ExitStatus(c.proc.Err())
		}
		if !proxy.Idempotent(req.Method) || body != nil && body.read() || attempt == maxAttempts {
			return nil, &workerError{pid: c.pid, status: status, err: err}
		}
		if notServed {
			p.log.Debug("request not served behind another, sending it again", "pid", c.pid,
				"method", req.Method, "path", req.URL.Path)
		} else {
			p.log.Info("worker died under a request, sending it to another", "pid", c.pid, "status", status,
				"method", req.Method, "path", req.URL.Path, "err", err)
		}
		if rerr := p.reassign(req.Context(), rq); rerr != nil {
			return nil, &workerError{pid: c.pid, status: status, err: fmt.Errorf("%v; no other worker: %w", err, rerr)}
		}
	}
}

// send round-trips out on c. With a Timeout (counted from here: a wait
// in the queue is not the worker's), the request runs apart
// from the client's deadline: past Timeout the client gets errTimeout
// while the reply is awaited and drained in the background, so that c
// counts as busy until it has really finished (HardTimeout bounds that).
func (p *Pool) send(c *child, rq *request, out *http.Request, body *guardedBody) (*http.Response, error) {
	if p.opts.Timeout <= 0 {
		return c.rt.RoundTrip(out)
	}
	ctx := out.Context()
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	unhook := context.AfterFunc(ctx, cancel) // the client gone ends it
	out = out.WithContext(wctx)
	type result struct {
		res *http.Response
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.rt.RoundTrip(out)
		done <- result{res, err}
	}()
	t := time.NewTimer(p.opts.Timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.res, r.err
	case <-t.C:
	}
	if !unhook() {
		r := <-done // the client went away as it timed out
		return r.res, r.err
	}
	if body != nil {
		body.cut() // the handler returns: no more reads from the client
	}
	rq.detached.Store(true)
	go func() {
		r := <-done
		if r.res != nil {
			io.Copy(io.Discard, r.res.Body)
			r.res.Body.Close()
		}
		cancel()
		p.release(rq, true)
	}()
	return nil, fmt.Errorf("%w (worker %d, %s %s, %s)", errTimeout, c.pid, rq.method, rq.path, p.opts.Timeout)
}

// observe reports a request's status to Options.Observe.
func (p *Pool) observe(status int, start time.Time) {
	if p.opts.Observe != nil {
		p.opts.Observe(status, time.Since(start))
	}
}

// guardedBody is the request body as the workers read it: it notes
// whether any byte was read (then the request cannot go to another
// worker), ignores Close so that an unread body can, and stops reading
// the client's body once cut.
type guardedBody struct {
	r     io.ReadCloser
	mu    sync.Mutex
	n     int64
	isCut bool
}

func (g *guardedBody) Read(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.isCut {
		return 0, errTimeout
	}
	n, err := g.r.Read(b)
	g.n += int64(n)
	return n, err
}

func (g *guardedBody) Close() error { return nil }

func (g *guardedBody) read() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n > 0
}

func (g *guardedBody) cut() {
	g.mu.Lock()
	g.isCut = true
	g.mu.Unlock()
}

// releasingBody is a worker's reply body that frees the worker when it
// has been read to its end, or closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.release)
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

var _ http.RoundTripper = (*transport)(nil)
