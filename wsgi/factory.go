package wsgi

import (
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopaste/gopaste/process"
	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("wsgi", factory,
		"runs a Python WSGI application (module = pkg.mod:app, or a PasteDeploy paste = config:FILE#NAME) in supervised workers")
}

// factory builds the wsgi app; docs/wsgi.md lists its keys.
func factory(c *registry.Config) (http.Handler, error) {
	o := Options{
		Module:            c.String("module", ""),
		Paste:             c.String("paste", ""),
		Python:            c.String("python", ""),
		Virtualenv:        c.Path("virtualenv", ""),
		Chdir:             c.Path("chdir", c.Here),
		Workers:           c.Int("workers", 0),
		Threads:           c.Int("threads", 1),
		Preload:           c.Bool("preload", false),
		LoggingConfig:     c.Path("logging_config", ""),
		MaxRequestsJitter: c.Int("max_requests_jitter", 0),
		Logger:            c.Logger,
	}
	for _, p := range c.List("pythonpath") {
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.Here, p)
		}
		o.PythonPath = append(o.PythonPath, p)
	}
	if o.Python != "" && strings.Contains(o.Python, "/") && !filepath.IsAbs(o.Python) {
		o.Python = filepath.Join(c.Here, o.Python)
	}
	if (o.Module == "") == (o.Paste == "") {
		c.Errorf("", "set exactly one of module (pkg.module:callable) and paste (config:FILE#NAME)")
	}
	if o.Paste != "" && !strings.Contains(strings.SplitN(o.Paste, "#", 2)[0], ":") {
		o.Paste = "config:" + o.Paste
	}
	if o.Workers < 0 {
		c.Errorf("workers", "must not be negative")
	}
	if o.Threads < 1 {
		c.Errorf("threads", "must be at least 1")
	}
	for _, k := range []string{"command", "protocol", "concurrency", "cwd", "startup_path"} {
		if c.Has(k) {
			c.MarkRead(k)
			c.Errorf(k, "is set by the wsgi app itself (see module, threads and chdir)")
		}
	}
	o.Process = readProcessOptions(c)
	for _, k := range c.KeysWithPrefix("env ") {
		name := strings.TrimSpace(strings.TrimPrefix(k, "env "))
		if name == "" || strings.ContainsAny(name, "= \t\r\n\x00") {
			c.Errorf(k, "%q is not a variable name", name)
			continue
		}
		o.Env = append(o.Env, name+"="+c.String(k, ""))
	}
	if _, err := FindPython(o.Python, o.Virtualenv); err != nil {
		key := "python"
		if o.Python == "" && o.Virtualenv != "" {
			key = "virtualenv"
		}
		c.Errorf(key, "%v", err)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	a, err := New(o)
	if err != nil {
		key := "module"
		if o.Paste != "" {
			key = "paste"
		}
		return nil, c.Errorf(key, "%v", err)
	}
	c.OnClose(a)
	for _, f := range a.Files() {
		c.Watch(f)
	}
	if file, ok := strings.CutPrefix(strings.SplitN(o.Paste, "#", 2)[0], "config:"); ok {
		if !filepath.IsAbs(file) {
			file = filepath.Join(o.Chdir, file)
		}
		c.Watch(file)
	}
	if o.LoggingConfig != "" {
		c.Watch(o.LoggingConfig)
	}
	return a, nil
}

// readProcessOptions reads the keys the wsgi app passes to the process
// supervisor as the process app reads them (docs/process.md).
func readProcessOptions(c *registry.Config) process.Options {
	o := process.Options{
		Listen:          c.OneOf("listen", "unix", "unix", "tcp"),
		User:            c.String("user", ""),
		Group:           c.String("group", ""),
		QueueTimeout:    c.Duration("queue_timeout", 30*time.Second),
		StartupTimeout:  c.Duration("startup_timeout", 30*time.Second),
		MaxRequests:     c.Int("max_requests", 0),
		MemoryLimit:     c.Size("memory_limit", 0),
		Timeout:         c.Duration("timeout", 0),
		HardTimeout:     c.Duration("hard_timeout", 0),
		StackSignal:     readSignal(c, "stack_signal", 0, true),
		StopSignal:      readSignal(c, "stop_signal", syscall.SIGTERM, false),
		GracefulTimeout: c.Duration("graceful_timeout", 30*time.Second),
		MaxBodySpool:    c.Size("max_body_spool", 10<<20),
	}
	o.MaxQueue = c.Int("max_queue", 128)
	switch {
	case o.MaxQueue < 0:
		c.Errorf("max_queue", "must not be negative")
	case o.MaxQueue == 0:
		o.MaxQueue = -1 // none: Options' zero means the default
	}
	if o.MaxBodySpool == 0 {
		o.MaxBodySpool = -1
	}
	if o.MaxRequests < 0 {
		c.Errorf("max_requests", "must not be negative")
	}
	return o
}

// readSignal reads key as a signal name (TERM, SIGTERM, usr1...), or
// "none" where allowed.
func readSignal(c *registry.Config, key string, def syscall.Signal, none bool) syscall.Signal {
	v := strings.ToUpper(strings.TrimSpace(c.String(key, "")))
	switch {
	case v == "":
		return def
	case v == "NONE" && none:
		return process.NoSignal
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
