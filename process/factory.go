package process

import (
	"errors"
	"net/http"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopaste/gopaste/admin"
	"github.com/gopaste/gopaste/fastcgi"
	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("process", factory,
		"runs worker processes in any language (http, scgi, uwsgi, fastcgi) and sends them requests")
}

// factory builds the process app: the keys of ReadOptions plus command,
// workers, protocol, cwd, concurrency, startup_path and pipeline, and for protocol
// fastcgi fastcgi_proxy's document_root, index and split_path
// (docs/process.md).
func factory(c *registry.Config) (http.Handler, error) {
	o := ReadOptions(c)
	cmd, err := splitCommand(c.Required("command"))
	if err != nil {
		c.Errorf("command", "%v", err)
	}
	o.Command = cmd
	o.Workers = c.Int("workers", 0)
	o.Protocol = c.OneOf("protocol", "http", "http", "scgi", "uwsgi", "fastcgi")
	if o.Protocol == "fastcgi" {
		o.Script = fastcgi.ReadScript(c) // PHP-FPM's document_root, index, split_path
	}
	o.Dir = c.Path("cwd", "")
	o.Concurrency = c.Int("concurrency", 1)
	o.StartupPath = c.String("startup_path", "/")
	switch o.Pipeline = c.Int("pipeline", 0); {
	case o.Pipeline < 0:
		c.Errorf("pipeline", "must not be negative")
	case o.Pipeline > 0 && o.Protocol != "uwsgi":
		c.Errorf("pipeline", "needs protocol = uwsgi (a worker that reads a kept connection's requests in order)")
	}
	if o.Workers < 0 {
		c.Errorf("workers", "must not be negative")
	}
	if o.Concurrency <= 0 {
		c.Errorf("concurrency", "must be at least 1")
	}
	if !strings.HasPrefix(o.StartupPath, "/") {
		c.Errorf("startup_path", "%q does not start with /", o.StartupPath)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	hub := admin.From(c)
	backend := hub.Stats.Backend(c.Name)
	o.Observe = func(status int, d time.Duration) { backend.Observe(time.Now(), status, d) }
	p, err := Prepare(o)
	if err != nil {
		return nil, c.Errorf("command", "%v", err)
	}
	c.OnClose(p)
	admin.Register(c, "", AdminSource{p})
	// The workers start once the whole config has built: an error
	// elsewhere in it starts none of them.
	c.OnStart(func() error {
		if err := p.Start(); err != nil {
			return c.Errorf("command", "%v", err)
		}
		return nil
	})
	return p, nil
}

// AdminSource shows a pool's workers on the admin status page.
type AdminSource struct{ Pool *Pool }

// Workers converts [Pool.Workers].
func (s AdminSource) Workers() []admin.Worker {
	ws := s.Pool.Workers()
	out := make([]admin.Worker, len(ws))
	for i, w := range ws {
		out[i] = admin.Worker{PID: w.Pid, State: w.State, Requests: uint64(w.Requests), RSS: w.RSS, Started: w.Started}
		if r := w.Request; r != nil {
			out[i].Current = &admin.Request{Method: r.Method, Path: r.Path, Since: r.Since}
		}
	}
	return out
}

// Ready fails while no worker is ready (for /readyz).
func (s AdminSource) Ready() error {
	for _, w := range s.Pool.Workers() {
		if w.State == "idle" || w.State == "busy" {
			return nil
		}
	}
	return errors.New("process: no worker ready")
}

var (
	_ admin.WorkerSource = AdminSource{}
	_ admin.Readier      = AdminSource{}
)

// ReadOptions reads the supervisor's keys that every app running workers
// shares (the process app, wsgi): listen, runtime_dir, "env NAME",
// user, group, max_queue, queue_timeout, startup_timeout, max_requests,
// max_requests_jitter, memory_limit, timeout, hard_timeout, stack_signal, stop_signal,
// graceful_timeout and max_body_spool, as docs/process.md describes
// them, and CheckOnly from c (so that "gopaste check" starts no
// worker). Errors are recorded in c. The caller sets Command, Protocol,
// Workers and the rest, and calls New.
func ReadOptions(c *registry.Config) Options {
	o := Options{Logger: c.Logger, CheckOnly: c.CheckOnly}
	o.Listen = c.OneOf("listen", "unix", "unix", "tcp")
	o.RuntimeDir = c.Path("runtime_dir", "")
	for _, k := range c.KeysWithPrefix("env ") {
		name := strings.TrimSpace(strings.TrimPrefix(k, "env "))
		if name == "" || strings.ContainsAny(name, "= \t\r\n\x00") {
			c.Errorf(k, "%q is not a variable name", name)
			continue
		}
		o.Env = append(o.Env, name+"="+c.String(k, ""))
	}
	o.User = c.String("user", "")
	o.Group = c.String("group", "")
	switch o.MaxQueue = c.Int("max_queue", 128); {
	case o.MaxQueue < 0:
		c.Errorf("max_queue", "must not be negative")
	case o.MaxQueue == 0:
		o.MaxQueue = -1 // none: Options' zero means the default
	}
	o.QueueTimeout = c.Duration("queue_timeout", 30*time.Second)
	o.StartupTimeout = c.Duration("startup_timeout", 30*time.Second)
	if o.MaxRequests = c.Int("max_requests", 0); o.MaxRequests < 0 {
		c.Errorf("max_requests", "must not be negative")
	}
	if o.MaxRequestsJitter = c.Int("max_requests_jitter", 0); o.MaxRequestsJitter < 0 {
		c.Errorf("max_requests_jitter", "must not be negative")
	}
	o.MemoryLimit = c.Size("memory_limit", 0)
	o.Timeout = c.Duration("timeout", 0)
	o.HardTimeout = c.Duration("hard_timeout", 0)
	o.StackSignal = readSignal(c, "stack_signal", 0, true)
	o.StopSignal = readSignal(c, "stop_signal", syscall.SIGTERM, false)
	o.GracefulTimeout = c.Duration("graceful_timeout", 30*time.Second)
	if o.MaxBodySpool = c.Size("max_body_spool", 10<<20); o.MaxBodySpool == 0 {
		o.MaxBodySpool = -1 // none: Options' zero means the default
	}
	return o
}

// readSignal reads key as a signal name (TERM, SIGTERM, quit...), or
// "none" where allowed.
func readSignal(c *registry.Config, key string, def syscall.Signal, none bool) syscall.Signal {
	v := strings.ToUpper(strings.TrimSpace(c.String(key, "")))
	switch {
	case v == "":
		return def
	case v == "NONE" && none:
		return NoSignal
	}
	if !strings.HasPrefix(v, "SIG") {
		v = "SIG" + v
	}
	s := unix.SignalNum(v)
	if s == 0 {
		c.Errorf(key, "%q is not a signal name such as TERM, INT, QUIT or USR1", c.String(key, ""))
		return def
	}
	return s
}

// splitCommand splits s into words as a shell would, without
// expansions: white space (newlines included) separates words, 'single
// quotes' keep everything, "double quotes" keep all but \" and \\, and
// a backslash outside quotes keeps the next character.
func splitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New(`unterminated " quote`)
			}
			inWord = true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
