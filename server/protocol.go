package server

import (
	"strings"

	"github.com/gopaste/gopaste/registry"
)

// Serving is what a protocol server implements; *http.Server does.
type Serving = registry.Serving

// protocolOptions is what o tells the protocol server it builds; sniffed
// says the connections come from a "protocol = auto" listener.
func (o Options) protocolOptions(sniffed bool) registry.ProtocolOptions {
	return registry.ProtocolOptions{
		ReadTimeout:    o.ReadTimeout,
		WriteTimeout:   o.WriteTimeout,
		IdleTimeout:    o.IdleTimeout,
		MaxHeaderBytes: o.MaxHeaderBytes,
		MaxConns:       o.MaxConcurrency,
		TLSConfig:      o.TLSConfig,
		H2C:            o.H2C,
		DisableHTTP2:   o.DisableHTTP2,
		Sniffed:        sniffed,
	}
}

func orDefault(r *registry.Registry) *registry.Registry {
	if r == nil {
		return registry.Default
	}
	return r
}

func protocolNames(r *registry.Registry) string {
	var ns []string
	for _, p := range r.Parts(registry.ProtocolKind) {
		ns = append(ns, p.Name)
	}
	return strings.Join(ns, ", ")
}
