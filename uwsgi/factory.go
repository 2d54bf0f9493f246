package uwsgi

import (
	"log/slog"
	"net/http"

	"github.com/gopaste/gopaste/proxy"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

func init() {
	registry.RegisterProtocol("uwsgi", registry.Protocol{
		New: newServing,
		// A packet starts with modifier1, which may be any byte: uwsgi
		// takes what no other protocol claims, so it is tried last.
		Sniff:   func([]byte) bool { return true },
		Order:   90,
		Article: "a uwsgi",
		Gateway: true,
	}, "uwsgi: a 4-byte header, CGI variables, then the body")
	registry.RegisterServer("uwsgi", serverFactory,
		"uwsgi protocol server (nginx uwsgi_pass, Apache mod_proxy_uwsgi)")
	registry.RegisterApp("uwsgi_proxy", proxyFactory,
		"gateway to uwsgi backends such as uWSGI (balancing, health checks, modifier1)")
}

// proxyFactory builds uwsgi_proxy: the keys of proxy.ReadOptions plus
// modifier1 (0-255, default 0) sent in every packet.
func proxyFactory(c *registry.Config) (http.Handler, error) {
	o := proxy.ReadOptions(c)
	m1 := c.Int("modifier1", 0)
	if m1 < 0 || m1 > 255 {
		c.Errorf("modifier1", "%d is not between 0 and 255", m1)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	o.RequireLength = true
	o.NewTransport = func(b proxy.Backend) http.RoundTripper {
		return &Transport{
			Addr:                  b.Addr,
			Modifier1:             uint8(m1),
			Vars:                  o.Vars(),
			DialTimeout:           o.ConnectTimeout,
			ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		}
	}
	p, err := proxy.New(o)
	if err != nil {
		return nil, c.Errorf("backends", "%v", err)
	}
	c.OnClose(p)
	return p, nil
}

func newServing(h http.Handler, o registry.ProtocolOptions, logger *slog.Logger) (registry.Serving, error) {
	return &Server{
		Handler:      h,
		Logger:       logger,
		ReadTimeout:  o.ReadTimeout,
		WriteTimeout: o.WriteTimeout,
		IdleTimeout:  o.IdleTimeout,
		MaxVarsBytes: o.MaxHeaderBytes,
	}, nil
}

func serverFactory(c *registry.Config) (registry.Server, error) {
	o := server.ReadOptions(c, "uwsgi", 3031)
	return &server.Server{Options: o, Logger: c.Logger, Registry: c.Registry}, c.Err()
}
