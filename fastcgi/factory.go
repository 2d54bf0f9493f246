package fastcgi

import (
	"log/slog"
	"net/http"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

func init() {
	server.RegisterProtocol(server.Protocol{
		Name:  "fastcgi",
		Sniff: func(b []byte) bool { return server.Detect(b) == "fastcgi" },
		New:   newServing,
	})
	registry.RegisterServer("fastcgi", serverFactory,
		"FastCGI responder (nginx fastcgi_pass, Apache mod_proxy_fcgi, cgi-fcgi)",
		"egg:Paste#flup_fcgi_thread", "egg:flup#fcgi_thread")
}

func newServing(h http.Handler, o server.Options, logger *slog.Logger) (server.Serving, error) {
	return &Server{
		Handler:        h,
		Logger:         logger,
		ReadTimeout:    o.ReadTimeout,
		WriteTimeout:   o.WriteTimeout,
		IdleTimeout:    o.IdleTimeout,
		MaxParamsBytes: o.MaxHeaderBytes,
		MaxConns:       o.MaxConcurrency,
	}, nil
}

func serverFactory(c *registry.Config) (registry.Server, error) {
	o := server.ReadOptions(c, "fastcgi", 9000)
	return &server.Server{Options: o, Logger: c.Logger}, c.Err()
}
