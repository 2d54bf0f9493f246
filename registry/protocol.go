package registry

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serving is what a protocol server implements; *http.Server does.
type Serving interface {
	// Serve accepts connections on l until Shutdown; it then returns
	// http.ErrServerClosed (or its protocol's equivalent).
	Serve(l net.Listener) error
	// Shutdown stops accepting, waits for in-flight requests until ctx is
	// done, then returns.
	Shutdown(ctx context.Context) error
}

// ProtocolOptions are what a server section tells the protocol server it
// builds; each protocol uses the fields it has a meaning for.
type ProtocolOptions struct {
	ReadTimeout    time.Duration // zero means none
	WriteTimeout   time.Duration // zero means none
	IdleTimeout    time.Duration // zero means ReadTimeout's value
	MaxHeaderBytes int           // zero means the protocol's default
	MaxConns       int           // concurrent requests; zero means unbounded
	// TLSConfig, when set, makes a protocol that can (HTTP) serve over TLS.
	TLSConfig *tls.Config
	// H2C enables cleartext HTTP/2; DisableHTTP2 turns HTTP/2 off.
	H2C, DisableHTTP2 bool
	// Sniffed says a "protocol = auto" listener already chose this
	// protocol for every connection it hands over.
	Sniffed bool
}

// ProtocolFactory builds a server of one protocol for h; it starts
// nothing until Serve.
type ProtocolFactory func(h http.Handler, o ProtocolOptions, logger *slog.Logger) (Serving, error)

// Protocol is a wire protocol a server section can speak ("protocol =
// scgi"), and what "protocol = auto" and the wrong-protocol log line know
// of it.
type Protocol struct {
	// New builds a server of the protocol.
	New ProtocolFactory
	// Sniff reports whether the first bytes of a connection belong to the
	// protocol. It gets at least one byte: 2 to 4 from the "protocol =
	// auto" listener unless the client sent fewer, possibly more from a
	// server checking a wrong client. nil means the protocol is never
	// chosen by sniffing nor named in a wrong-protocol message.
	Sniff func(first []byte) bool
	// Order places the protocol among the others when sniffing: lower
	// first. A protocol whose Sniff accepts almost anything (uwsgi) takes
	// a high Order so that it is tried last.
	Order int
	// Article is the protocol's name with its article as a log line says
	// it ("an SCGI"): a server of another protocol that receives bytes
	// this protocol sniffs logs "received an SCGI request on a uwsgi
	// socket". Empty means "a " and the name.
	Article string
	// Gateway says the protocol carries CGI variables (REMOTE_ADDR,
	// HTTPS, HTTP_HOST) as a front end set them, which only a trusted
	// front end may: a server of it on an address other hosts reach
	// without allowed_peers is warned about, and "protocol = auto" there
	// needs allowed_peers.
	Gateway bool
}

// AddProtocol registers a protocol under name.
func (r *Registry) AddProtocol(name string, p Protocol, desc string) error {
	return r.Add(Part{Kind: ProtocolKind, Name: name, Description: desc, Protocol: &p})
}

// RegisterProtocol adds a protocol to Default; it panics on a duplicate.
func RegisterProtocol(name string, p Protocol, desc string) {
	Default.MustAdd(Part{Kind: ProtocolKind, Name: name, Description: desc, Protocol: &p})
}

// Protocols lists the registered protocols in sniffing order (by Order,
// then name).
func (r *Registry) Protocols() []*Part {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]*Part(nil), r.protos...)
}

// Detect names the registered protocol the first bytes of a connection
// belong to, trying protocols in sniffing order; "" when none claims them
// (or first is empty).
func (r *Registry) Detect(first []byte) string {
	if p := r.sniff(first); p != nil {
		return p.Name
	}
	return ""
}

func (r *Registry) sniff(first []byte) *Part {
	if len(first) == 0 {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.protos {
		if p.Protocol.Sniff != nil && p.Protocol.Sniff(first) {
			return p
		}
	}
	return nil
}

// Mismatch returns a log-ready sentence when the first bytes of a
// connection to a server of protocol want belong to another registered
// protocol ("received an HTTP request on a uwsgi socket"), or "" when they
// look right or unknown. Servers log it instead of a bare framing error.
func (r *Registry) Mismatch(want string, first []byte) string {
	got := r.sniff(first)
	if got == nil || got.Name == want {
		return ""
	}
	wantArticle := "a " + want
	if p, ok := r.Lookup(ProtocolKind, want); ok {
		wantArticle = p.Protocol.article(want)
	}
	return "received " + got.Protocol.article(got.Name) + " request on " + wantArticle + " socket"
}

func (p *Protocol) article(name string) string {
	if p.Article != "" {
		return p.Article
	}
	return "a " + name
}

// Detect is Default.Detect: protocol servers, which know no registry,
// use it to name what a client sent.
func Detect(first []byte) string { return Default.Detect(first) }

// Mismatch is Default.Mismatch, for protocol servers.
func Mismatch(want string, first []byte) string { return Default.Mismatch(want, first) }
