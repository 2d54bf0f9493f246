package wsgi

import (
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/gopaste/gopaste/admin"
	"github.com/gopaste/gopaste/process"
	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("wsgi", factory,
		"runs a Python WSGI application (module = pkg.mod:app, or a PasteDeploy paste = config:FILE#NAME) in supervised workers")
}

// factory builds the wsgi app: its own keys plus the supervisor's
// (process.ReadOptions); docs/wsgi.md lists them.
func factory(c *registry.Config) (http.Handler, error) {
	o := Options{
		Module:        c.String("module", ""),
		Paste:         c.String("paste", ""),
		Python:        c.String("python", ""),
		Virtualenv:    c.Path("virtualenv", ""),
		Chdir:         c.Path("chdir", c.Here),
		Workers:       c.Int("workers", 0),
		Threads:       c.Int("threads", 1),
		Preload:       c.Bool("preload", false),
		LoggingConfig: c.Path("logging_config", ""),
		Process:       process.ReadOptions(c),
		Logger:        c.Logger,
	}
	o.Process.Pipeline = readPipeline(c, o.Process)
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
	backend := admin.From(c).Stats.Backend(c.Name)
	o.Process.Observe = func(status int, d time.Duration) { backend.Observe(time.Now(), status, d) }
	key := "module"
	if o.Paste != "" {
		key = "paste"
	}
	a, err := Prepare(o)
	if err != nil {
		return nil, c.Errorf(key, "%v", err)
	}
	c.OnClose(a)
	admin.Register(c, "", process.AdminSource{Pool: a.pool})
	// The workers start (and import the application) once the whole
	// config has built: an error elsewhere in it starts none of them.
	c.OnStart(func() error {
		if err := a.Start(); err != nil {
			return c.Errorf(key, "%v", err)
		}
		for _, f := range a.Files() {
			c.Watch(f)
		}
		return nil
	})
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

// readPipeline reads the pipeline key. One request behind the running
// one keeps a worker fed; a second added 5% more requests but put 1% of
// them 10–25 ms late, held on a worker the kernel had set aside
// (docs/wsgi.md, "Pipelining"). A request written behind another counts
// its timeout and hard_timeout from then, its wait included: with either
// set, pipelining is the user's choice, not a default that could time a
// request out, or kill a worker, for a slow one ahead.
func readPipeline(c *registry.Config, po process.Options) int {
	def := 1
	if po.Timeout > 0 || po.HardTimeout > 0 {
		def = 0
	}
	n := c.Int("pipeline", def)
	if n < 0 {
		c.Errorf("pipeline", "must not be negative")
	}
	return n
}
