package cgi

import (
	"net/http"
	"os/exec"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("cgi", appFactory,
		"runs CGI scripts: one script, or a directory of them (as paste.cgiapp)",
		"egg:Paste#cgi")
	registry.RegisterServer("cgi", serverFactory,
		"serves one request as a CGI program (run by Apache mod_cgi, fcgiwrap or the cgi app)")
}

func appFactory(c *registry.Config) (http.Handler, error) {
	o := Options{
		Script:      c.Path("script", ""),
		Dir:         c.Path("script_dir", ""),
		Interpreter: c.List("interpreter"),
		PassEnv:     c.List("pass_env"),
		Timeout:     c.Duration("timeout", 0),
		Logger:      c.Logger,
	}
	if (o.Script == "") == (o.Dir == "") {
		c.Errorf("", "set exactly one of script and script_dir")
	}
	if len(o.Interpreter) > 0 {
		if _, err := exec.LookPath(o.Interpreter[0]); err != nil {
			c.Errorf("interpreter", "%v", err)
		}
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	h, err := New(o)
	if err != nil {
		key := "script"
		if o.Dir != "" {
			key = "script_dir"
		}
		return nil, c.Errorf(key, "%v", err)
	}
	c.OnClose(h)
	return h, nil
}

func serverFactory(c *registry.Config) (registry.Server, error) {
	return &Server{Logger: c.Logger}, c.Err()
}
