package uwsgi

import (
	"log/slog"
	"net/http"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

func init() {
	server.RegisterProtocol(server.Protocol{
		Name:  "uwsgi",
		Sniff: func(b []byte) bool { return server.Detect(b) == "uwsgi" },
		New:   newServing,
	})
	registry.RegisterServer("uwsgi", serverFactory,
		"uwsgi protocol server (nginx uwsgi_pass, Apache mod_proxy_uwsgi)")
}

func newServing(h http.Handler, o server.Options, logger *slog.Logger) (server.Serving, error) {
	return &Server{
		Handler:      h,
		Logger:       logger,
		ReadTimeout:  o.ReadTimeout,
		WriteTimeout: o.WriteTimeout,
		MaxVarsBytes: o.MaxHeaderBytes,
	}, nil
}

func serverFactory(c *registry.Config) (registry.Server, error) {
	o := server.ReadOptions(c, "uwsgi", 3031)
	return &server.Server{Options: o, Logger: c.Logger}, c.Err()
}
