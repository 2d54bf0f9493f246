package server

import (
	"context"
	"crypto/tls"
	"github.com/gopaste/gopaste/internal/gateway"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterProtocol("http", registry.Protocol{
		New:     newHTTP,
		Sniff:   sniffHTTP,
		Order:   10,
		Article: "an HTTP",
	}, "HTTP/1.1, HTTP/2 (h2c preface \"PRI *\") and TLS")
	registry.RegisterServer("http", httpFactory,
		"HTTP/1.1 and HTTP/2 server (TLS, unix sockets, h2c)",
		"egg:Paste#http", "wsgiutils")
}

// sniffHTTP claims a request line (an upper-case method, or HTTP/2's
// "PRI *" preface) and a TLS handshake record (0x16 0x03).
func sniffHTTP(b []byte) bool {
	return b[0] >= 'A' && b[0] <= 'Z' || len(b) > 1 && b[0] == 0x16 && b[1] == 0x03
}

func newHTTP(h http.Handler, o registry.ProtocolOptions, logger *slog.Logger) (Serving, error) {
	srv := &http.Server{
		Handler:           guardHTTP1(h),
		ReadTimeout:       o.ReadTimeout,
		ReadHeaderTimeout: o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		// Kept-alive connections that send nothing more are closed,
		// as the gateway servers close theirs (issue 12).
		IdleTimeout:    gateway.IdleTimeout(o.IdleTimeout, o.ReadTimeout),
		MaxHeaderBytes: o.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cc, ok := h.(ConnContexter); ok {
		srv.ConnContext = cc.ConnContext
	}
	srv.ConnContext = headContext(srv.ConnContext)
	if srv.ReadHeaderTimeout == 0 {
		// Without any timeout a client that never finishes its headers
		// holds a connection forever.
		srv.ReadHeaderTimeout = time.Minute
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(!o.DisableHTTP2)
	p.SetUnencryptedHTTP2(o.H2C)
	srv.Protocols = &p
	if o.TLSConfig == nil {
		// The sniffer (protocol = auto) already chose HTTP: no
		// wrong-protocol check then.
		return &plainServing{srv: srv, logger: logger, sniffed: o.Sniffed}, nil
	}
	cfg := o.TLSConfig.Clone()
	if !o.DisableHTTP2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	} else {
		cfg.NextProtos = []string{"http/1.1"}
	}
	srv.TLSConfig = cfg
	return &tlsServing{srv: srv, cfg: cfg}, nil
}

// plainServing logs clients that speak another protocol to an HTTP port
// (unless sniffed) and keeps the head of HTTP/1.0 requests (headConn).
// Over TLS net/http needs the *tls.Conn itself, so HTTP/1.0 requests
// there are closed after but not checked for Transfer-Encoding.
type plainServing struct {
	srv     *http.Server
	logger  *slog.Logger
	sniffed bool
}

func (p *plainServing) Serve(l net.Listener) error {
	hl := headListener{Listener: l}
	if !p.sniffed {
		hl.mismatch = p.logger
	}
	return p.srv.Serve(hl)
}

func (p *plainServing) Shutdown(ctx context.Context) error { return p.srv.Shutdown(ctx) }

// tlsServing wraps the listener in TLS; http.Server negotiates h2 on it.
type tlsServing struct {
	srv *http.Server
	cfg *tls.Config
}

func (t *tlsServing) Serve(l net.Listener) error {
	return t.srv.Serve(tls.NewListener(l, t.cfg))
}

func (t *tlsServing) Shutdown(ctx context.Context) error {
	return t.srv.Shutdown(ctx)
}

func httpFactory(c *registry.Config) (registry.Server, error) {
	o := ReadOptions(c, "http", 8080)
	cert := c.Path("cert_file", "")
	key := c.Path("key_file", "")
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			c.Errorf("cert_file", "%v", err)
			break
		}
		// The running server presents what the latest build loaded: a
		// reload after a renewal reaches its handshakes.
		certs, err := registry.Shared(c, "certificate", func() (*certHolder, error) { return new(certHolder), nil })
		if err != nil {
			return nil, err
		}
		certs.Store(&pair)
		o.TLSConfig = &tls.Config{GetCertificate: certs.get, MinVersion: tls.VersionTLS12}
		c.Watch(cert)
		c.Watch(key)
	case cert != "" || key != "":
		c.Errorf("cert_file", "cert_file and key_file go together")
	}
	o.H2C = c.Bool("h2c", false)
	o.DisableHTTP2 = !c.Bool("http2", true)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return &Server{Options: o, Logger: c.Logger, Registry: c.Registry}, nil
}

// certHolder is the certificate an HTTPS server section presents, kept
// across reloads (registry.Shared): each build stores the pair it loaded.
type certHolder struct {
	atomic.Pointer[tls.Certificate]
}

func (h *certHolder) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return h.Load(), nil }
