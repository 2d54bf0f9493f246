package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
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

// Protocol is one wire protocol a server can speak.
type Protocol struct {
	Name string
	// Sniff reports whether the first bytes of a connection (at least 4
	// unless the client sent fewer) belong to this protocol; nil means the
	// protocol is never chosen by sniffing.
	Sniff func(first []byte) bool
	// New builds a server for h with the shared options.
	New func(h http.Handler, o Options, logger *slog.Logger) (Serving, error)
}

var (
	protoMu sync.RWMutex
	protos  = map[string]Protocol{}
)

// RegisterProtocol makes a protocol available to server sections and to
// "protocol = auto". It panics on a duplicate name (a start-up error).
func RegisterProtocol(p Protocol) {
	protoMu.Lock()
	defer protoMu.Unlock()
	if _, ok := protos[p.Name]; ok {
		panic("server: protocol " + p.Name + " registered twice")
	}
	protos[p.Name] = p
}

func lookupProtocol(name string) (Protocol, bool) {
	protoMu.RLock()
	defer protoMu.RUnlock()
	p, ok := protos[name]
	return p, ok
}

func protocolNames() string {
	protoMu.RLock()
	defer protoMu.RUnlock()
	var ns []string
	for n := range protos {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}

// Detect names the protocol the first bytes of a connection look like:
// "http", "scgi", "fastcgi", "uwsgi", "tls", or "" when b is empty. Servers
// use it to say "received an HTTP request on a uwsgi socket" instead of a
// bare framing error.
func Detect(b []byte) string {
	switch {
	case len(b) == 0:
		return ""
	case b[0] == 0x16 && len(b) > 1 && b[1] == 0x03:
		return "tls"
	case b[0] >= '0' && b[0] <= '9':
		return "scgi"
	case b[0] >= 'A' && b[0] <= 'Z':
		return "http"
	case b[0] == 1 && len(b) > 1 && (b[1] == 1 || b[1] == 9):
		return "fastcgi"
	case bytes.HasPrefix(b, []byte("PRI *")):
		return "http"
	}
	return "uwsgi"
}

// Mismatch returns a log-ready sentence when the first bytes b of a
// connection to a server of protocol want look like another protocol, or ""
// when they look right (or unknown).
func Mismatch(want string, b []byte) string {
	got := Detect(b)
	if got == "" || got == want || (got == "tls" && want == "http") {
		return ""
	}
	return "received " + article(got) + " request on " + article(want) + " socket"
}

func article(p string) string {
	switch p {
	case "http":
		return "an HTTP"
	case "tls":
		return "a TLS"
	case "scgi":
		return "an SCGI"
	case "fastcgi":
		return "a FastCGI"
	case "uwsgi":
		return "a uwsgi"
	}
	return "a " + p
}
