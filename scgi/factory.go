package scgi

import (
	"log/slog"
	"net/http"

	"github.com/gopaste/gopaste/proxy"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

func init() {
	registry.RegisterProtocol("scgi", registry.Protocol{
		New:     newServing,
		Sniff:   sniff,
		Order:   20,
		Article: "an SCGI",
		Gateway: true,
	}, "SCGI: a netstring of CGI variables, then the body")
	registry.RegisterServer("scgi", serverFactory,
		"SCGI server (nginx scgi_pass, Apache mod_proxy_scgi)",
		"egg:Paste#flup_scgi_thread")
	registry.RegisterApp("scgi_proxy", proxyFactory,
		"proxies requests to SCGI backends (uWSGI --scgi-socket, Perl SCGI, flup)")
}

// sniff claims a netstring's length: a request starts with a digit.
func sniff(b []byte) bool { return b[0] >= '0' && b[0] <= '9' }

func newServing(h http.Handler, o registry.ProtocolOptions, logger *slog.Logger) (registry.Serving, error) {
	return &Server{
		Handler:        h,
		Logger:         logger,
		ReadTimeout:    o.ReadTimeout,
		WriteTimeout:   o.WriteTimeout,
		MaxHeaderBytes: o.MaxHeaderBytes,
	}, nil
}

func serverFactory(c *registry.Config) (registry.Server, error) {
	o := server.ReadOptions(c, "scgi", 4000)
	return &server.Server{Options: o, Logger: c.Logger, Registry: c.Registry}, c.Err()
}

func proxyFactory(c *registry.Config) (http.Handler, error) {
	o := proxy.ReadOptions(c)
	if err := c.Err(); err != nil {
		return nil, err
	}
	o.RequireLength = true
	o.NewTransport = func(b proxy.Backend) http.RoundTripper {
		addr := b.Address
		if b.Network == "unix" {
			addr = "unix:" + b.Address
		}
		return &Transport{
			Addr:                  addr,
			DialTimeout:           o.ConnectTimeout,
			ResponseHeaderTimeout: o.ResponseHeaderTimeout,
			Vars:                  o.Vars(),
		}
	}
	p, err := proxy.New(o)
	if err != nil {
		return nil, c.Errorf("", "%v", err)
	}
	c.OnClose(p)
	return p, nil
}
