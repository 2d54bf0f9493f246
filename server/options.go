package server

import (
	"crypto/tls"
	"fmt"
	"io/fs"
	"runtime"
	"strconv"
	"time"

	"github.com/gopaste/gopaste/registry"
)

// Options are the keys every server section shares, whatever its protocol.
type Options struct {
	Listen ListenConfig
	// Protocol is the registered protocol served ("http", "scgi", ...) or
	// "auto" to sniff each connection.
	Protocol string
	// Concurrency is "threaded" (default: a goroutine per request, bounded
	// by MaxConcurrency), "sync" (one request at a time) or "prefork"
	// (Workers processes sharing the listener, each threaded, MaxConcurrency
	// and the queue applying per process; see [Prefork]).
	Concurrency    string
	MaxConcurrency int // 0 means unbounded
	// Workers is the number of prefork worker processes; default the
	// number of CPUs.
	Workers int
	// MaxRequests, when positive, recycles a prefork worker after that
	// many requests, plus a random 0..MaxRequestsJitter so that workers
	// do not recycle together.
	MaxRequests, MaxRequestsJitter int
	// ReloadFile, when set, is a file whose change of modification time
	// reloads the config as SIGHUP does ("touch" it); "gopaste serve"
	// checks it every second.
	ReloadFile     string
	MaxQueue       int           // requests waiting for a slot; default 128
	QueueTimeout   time.Duration // how long one waits; default 30s
	ReadTimeout    time.Duration // zero means none
	WriteTimeout   time.Duration // zero means none
	IdleTimeout    time.Duration // zero means ReadTimeout's value
	MaxHeaderBytes int           // zero means the protocol's default (1 MiB for HTTP)
	// GracefulTimeout bounds the wait for in-flight requests at shutdown;
	// default 30s. Connections still busy after it are closed.
	GracefulTimeout time.Duration

	// TLSConfig, when set, makes the HTTP protocol serve HTTPS (HTTP/2
	// negotiated by ALPN unless DisableHTTP2). Other protocols ignore it.
	TLSConfig *tls.Config
	// H2C enables cleartext HTTP/2 (prior knowledge and h2c upgrade).
	H2C          bool
	DisableHTTP2 bool

	// Admin, when set, opens the admin listener (key admin).
	Admin *AdminOptions
}

// ReadOptions reads the shared keys of a server section: host, port,
// socket, socket_mode, allowed_peers, protocol, concurrency,
// max_concurrency, max_queue, queue_timeout, read_timeout, write_timeout,
// idle_timeout, max_header_bytes, graceful_timeout, admin. protocol defaults to
// proto. Errors are recorded in c.
func ReadOptions(c *registry.Config, proto string, defPort int) Options {
	o := Options{
		Protocol:        proto,
		Concurrency:     "threaded",
		MaxQueue:        128,
		QueueTimeout:    30 * time.Second,
		GracefulTimeout: 30 * time.Second,
	}
	o.Listen.Host = c.String("host", "127.0.0.1")
	o.Listen.Port = c.Int("port", defPort)
	if o.Listen.Port < 0 || o.Listen.Port > 65535 {
		c.Errorf("port", "%d is not a port number", o.Listen.Port)
	}
	o.Listen.Socket = c.Path("socket", "")
	o.Listen.Origin = listenOrigin(c)
	if v, ok := c.Lookup("socket_mode"); ok {
		m, err := strconv.ParseUint(v, 8, 32)
		if err != nil || m > 0o777 {
			c.Errorf("socket_mode", "%q is not an octal file mode like 0660", v)
		}
		o.Listen.SocketMode = fs.FileMode(m)
	}
	if peers := c.List("allowed_peers"); len(peers) > 0 {
		p, err := ParsePeers(peers)
		if err != nil {
			c.Errorf("allowed_peers", "%v", err)
		}
		o.Listen.AllowedPeers = p
	}
	o.Protocol = c.String("protocol", proto)
	if reg := orDefault(c.Registry); o.Protocol != "auto" {
		if _, ok := reg.Lookup(registry.ProtocolKind, o.Protocol); !ok {
			c.Errorf("protocol", "unknown protocol %q (known: %s, auto)", o.Protocol, protocolNames(reg))
		}
	}
	// A gateway protocol's client is a web server, not a browser that
	// may vanish: no keep-alive probes (ListenConfig.NoKeepAlive).
	o.Listen.NoKeepAlive = o.Protocol != "http" && o.Protocol != "auto"
	checkListen(c, o, orDefault(c.Registry))
	o.Concurrency = c.OneOf("concurrency", "threaded", "threaded", "sync", "prefork")
	o.MaxConcurrency = c.Int("max_concurrency", 0)
	o.Workers = c.Int("workers", runtime.NumCPU())
	o.MaxRequests = c.Int("max_requests", 0)
	o.MaxRequestsJitter = c.Int("max_requests_jitter", 0)
	if o.Concurrency != "prefork" {
		for _, k := range []string{"workers", "max_requests", "max_requests_jitter"} {
			if c.Has(k) {
				c.Errorf(k, "only with concurrency = prefork")
			}
		}
	}
	if o.Workers < 1 {
		c.Errorf("workers", "must be at least 1")
	}
	if o.MaxRequests < 0 || o.MaxRequestsJitter < 0 {
		c.Errorf("max_requests", "max_requests and max_requests_jitter must not be negative")
	}
	o.ReloadFile = c.Path("reload_file", "")
	o.MaxQueue = c.Int("max_queue", o.MaxQueue)
	o.QueueTimeout = c.Duration("queue_timeout", o.QueueTimeout)
	if o.MaxConcurrency < 0 {
		c.Errorf("max_concurrency", "must not be negative")
	}
	if o.MaxQueue < 0 {
		c.Errorf("max_queue", "must not be negative")
	}
	o.ReadTimeout = c.Duration("read_timeout", 0)
	o.WriteTimeout = c.Duration("write_timeout", 0)
	o.IdleTimeout = c.Duration("idle_timeout", 0)
	o.MaxHeaderBytes = int(c.Size("max_header_bytes", 0))
	o.GracefulTimeout = c.Duration("graceful_timeout", o.GracefulTimeout)
	o.Admin = readAdmin(c)
	return o
}

// listenOrigin names the key that sets the address (socket, else port,
// else host), or the section when none is set.
func listenOrigin(c *registry.Config) string {
	for _, k := range []string{"socket", "port", "host"} {
		if c.Has(k) {
			return fmt.Sprintf("%s: [%s]: key %q", c.KeyOrigin(k), c.Section, k)
		}
	}
	return fmt.Sprintf("%s: [%s]", c.Origin, c.Section)
}
