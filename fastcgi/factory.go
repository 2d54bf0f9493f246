package fastcgi

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/proxy"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

func init() {
	registry.RegisterProtocol("fastcgi", registry.Protocol{
		New:     newServing,
		Sniff:   sniff,
		Order:   30,
		Article: "a FastCGI",
		Gateway: true,
	}, "FastCGI: records, from a web server's fastcgi_pass")
	registry.RegisterServer("fastcgi", serverFactory,
		"FastCGI responder (nginx fastcgi_pass, Apache mod_proxy_fcgi, cgi-fcgi)",
		"egg:Paste#flup_fcgi_thread", "egg:flup#fcgi_thread")
	registry.RegisterApp("fastcgi_proxy", proxyFactory,
		"gateway to FastCGI applications such as PHP-FPM (pooled, split_path, document_root)")
}

// proxyFactory builds fastcgi_proxy: the keys of proxy.ReadOptions plus
// max_conns (connections per backend, busy and idle; default
// max_idle_conns, else 2: set it to the backend's worker count), keep_conn
// (default true), document_root, index, split_path (extensions, e.g.
// ".php") and "env NAME = value" extra variables.
func proxyFactory(c *registry.Config) (http.Handler, error) {
	o := proxy.ReadOptions(c)
	def := o.MaxIdleConns
	if def <= 0 {
		def = 2
	}
	maxConns := c.Int("max_conns", def)
	if maxConns <= 0 {
		c.Errorf("max_conns", "must be at least 1")
	}
	keep := c.Bool("keep_conn", true)
	script := ReadScript(c)
	var extra []cgivars.Pair
	for _, k := range c.KeysWithPrefix("env ") {
		name := strings.TrimSpace(strings.TrimPrefix(k, "env "))
		v := c.String(k, "")
		if name == "" || strings.ContainsAny(name, "= \t\r\n\x00") {
			c.Errorf(k, "%q is not a variable name", name)
			continue
		}
		extra = append(extra, cgivars.Pair{Name: name, Value: v})
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	vars := o.Vars()
	vars.Extra = extra
	o.NewTransport = func(b proxy.Backend) http.RoundTripper {
		t := &Transport{
			Addr:                  b.Addr,
			MaxConns:              maxConns,
			NoKeepConn:            !keep,
			DialTimeout:           o.ConnectTimeout,
			ResponseHeaderTimeout: o.ResponseHeaderTimeout,
			Vars:                  vars,
			Script:                script,
			Logger:                c.Logger,
		}
		return t
	}
	o.RequireLength = true
	p, err := proxy.New(o)
	if err != nil {
		return nil, c.Errorf("backends", "%v", err)
	}
	c.OnClose(p)
	return p, nil
}

// ReadScript reads the keys that map a path to a script file (PHP's):
// document_root, index and split_path (extensions, e.g. ".php"), for
// fastcgi_proxy and for the process app's FastCGI workers. Errors are
// recorded in c.
func ReadScript(c *registry.Config) Script {
	script := Script{
		DocumentRoot: c.Path("document_root", ""),
		Index:        c.String("index", ""),
	}
	if script.DocumentRoot != "" {
		if fi, err := os.Stat(script.DocumentRoot); err != nil || !fi.IsDir() {
			// The backend may run elsewhere: only say so.
			c.Logger.Warn("document_root is not a local directory", "document_root", script.DocumentRoot)
		}
		script.DocumentRoot = filepath.Clean(script.DocumentRoot)
	}
	for _, ext := range c.List("split_path") {
		if !strings.HasPrefix(ext, ".") || strings.ContainsAny(ext, "/\x00") || !isASCII(ext) {
			c.Errorf("split_path", "%q is not an ASCII extension like .php", ext)
			continue
		}
		script.SplitPath = append(script.SplitPath, ext)
	}
	if (script.Index != "" || len(script.SplitPath) > 0) && script.DocumentRoot == "" {
		c.Errorf("document_root", "is required with index or split_path")
	}
	return script
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// sniff claims a version 1 record of type BEGIN_REQUEST or GET_VALUES,
// the two a web server opens a connection with.
func sniff(b []byte) bool {
	return len(b) > 1 && b[0] == 1 && (RecordType(b[1]) == TypeBeginRequest || RecordType(b[1]) == TypeGetValues)
}

func newServing(h http.Handler, o registry.ProtocolOptions, logger *slog.Logger) (registry.Serving, error) {
	return &Server{
		Handler:        h,
		Logger:         logger,
		ReadTimeout:    o.ReadTimeout,
		WriteTimeout:   o.WriteTimeout,
		IdleTimeout:    o.IdleTimeout,
		MaxParamsBytes: o.MaxHeaderBytes,
		MaxConns:       o.MaxConns,
	}, nil
}

func serverFactory(c *registry.Config) (registry.Server, error) {
	o := server.ReadOptions(c, "fastcgi", 9000)
	return &server.Server{Options: o, Logger: c.Logger, Registry: c.Registry}, c.Err()
}
