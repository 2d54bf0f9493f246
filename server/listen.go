package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gopaste/gopaste/registry"
)

// ListenConfig says where a server listens.
type ListenConfig struct {
	Host       string      // default 127.0.0.1
	Port       int         // 0 picks a free port
	Socket     string      // a unix socket path; when set, Host and Port are unused
	SocketMode fs.FileMode // permissions of the socket file; zero leaves the umask's
	// AllowedPeers, when not empty, lists the networks whose TCP clients
	// are served; others are closed at accept and logged. Unix socket
	// peers are always allowed (file permissions guard them).
	AllowedPeers []netip.Prefix
	// NoKeepAlive leaves TCP keep-alive probes off on accepted
	// connections (Go turns them on: four setsockopt a connection). The
	// gateway protocols set it: their clients are web servers nearby that
	// often open a connection a request, and the idle timeout closes a
	// connection left idle. A listener inherited from another process
	// keeps Go's default.
	NoKeepAlive bool
	// Origin says where the address was configured; Listen's errors start
	// with it: `site.ini:12: [server:main]: key "port": listen tcp
	// 127.0.0.1:8080: bind: address already in use`. ReadOptions sets it.
	Origin string
}

// Addr returns the address in the form net.Listen takes.
func (lc ListenConfig) Addr() (network, addr string) {
	if lc.Socket != "" {
		return "unix", lc.Socket
	}
	host := lc.Host
	if host == "" {
		host = "127.0.0.1"
	}
	return "tcp", net.JoinHostPort(host, strconv.Itoa(lc.Port))
}

// Exposed reports whether other hosts may reach the address: a TCP
// address whose host is not loopback (127.0.0.0/8, ::1, "localhost").
// A host name is taken as exposed.
func (lc ListenConfig) Exposed() bool {
	if lc.Socket != "" {
		return false
	}
	host := lc.Host
	if host == "" || strings.EqualFold(host, "localhost") {
		return false
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err != nil || !a.Unmap().IsLoopback()
}

// Exposed reports whether the server listens where other hosts reach it
// (registry.Exposer): deploy then reports the warnings of parts that are
// risky there, such as the errors filter's debug page.
func (s *Server) Exposed() bool { return s.Options.Listen.Exposed() }

// checkListen records in c what o's address, protocol and socket mode
// call for. A gateway protocol (registry.Protocol.Gateway) on an exposed
// address without allowed_peers lets anyone set REMOTE_ADDR and HTTPS:
// for "protocol = auto" that is an error, for a server of the protocol
// itself a warning. A socket mode that lets every local user write (and
// so connect) is a warning.
func checkListen(c *registry.Config, o Options, reg *registry.Registry) {
	if o.Listen.Socket != "" && o.Listen.SocketMode&0o002 != 0 {
		c.Warnf("socket_mode", "%#o lets every local user connect to the socket; 0660 with the front end's group is the usual choice", uint32(o.Listen.SocketMode.Perm()))
	}
	if !o.Listen.Exposed() || len(o.Listen.AllowedPeers) > 0 {
		return
	}
	_, addr := o.Listen.Addr()
	if o.Protocol == "auto" {
		c.Errorf("protocol", "protocol = auto on %s, an address other hosts reach, needs allowed_peers: "+
			"SCGI, uwsgi and FastCGI carry CGI variables (REMOTE_ADDR, HTTPS, HTTP_HOST) that only a trusted front end may set. "+
			"List the front ends in allowed_peers (every protocol is then served to them only), or serve HTTP and the gateway protocol on separate servers", addr)
		return
	}
	if p, ok := reg.Lookup(registry.ProtocolKind, o.Protocol); ok && p.Protocol.Gateway {
		c.Warnf("host", "%s on %s, an address other hosts reach, without allowed_peers: "+
			"any client that connects sets the CGI variables (REMOTE_ADDR, HTTPS, HTTP_HOST) the app trusts; "+
			"list the front ends in allowed_peers", o.Protocol, addr)
	}
}

// Listen opens the listener. A stale unix socket file left by a dead
// process is removed first; a path that is not a socket is an error.
// Errors start with Origin, when set.
func (lc ListenConfig) Listen(logger *slog.Logger) (l net.Listener, err error) {
	if lc.Origin != "" {
		defer func() {
			if err != nil {
				err = fmt.Errorf("%s: %w", lc.Origin, err)
			}
		}()
	}
	network, addr := lc.Addr()
	if network == "unix" {
		if fi, err := os.Lstat(addr); err == nil {
			if fi.Mode()&fs.ModeSocket == 0 {
				return nil, fmt.Errorf("listen unix %s: exists and is not a socket", addr)
			}
			if c, err := net.Dial("unix", addr); err == nil {
				c.Close()
				return nil, fmt.Errorf("listen unix %s: another process is serving it", addr)
			}
			os.Remove(addr)
		}
	}
	if network == "unix" {
		l, err = listenUnix(addr, lc.SocketMode)
	} else {
		var cfg net.ListenConfig
		if lc.NoKeepAlive {
			cfg.KeepAlive = -1
		}
		l, err = cfg.Listen(context.Background(), network, addr)
	}
	if err != nil {
		return nil, err
	}
	if len(lc.AllowedPeers) > 0 && network == "tcp" {
		if logger == nil {
			logger = slog.Default()
		}
		l = &peerListener{Listener: l, allowed: lc.AllowedPeers, logger: logger}
	}
	return l, nil
}

// umaskMu serializes the umask changes of listenUnix.
var umaskMu sync.Mutex

// listenUnix binds a unix socket at path whose file never has more
// permissions than mode (zero: the umask's): the process umask is
// narrowed around the bind (it is process-wide; files others create
// meanwhile only get fewer permissions), so the file is created with mode
// less what the umask took, and is chmod-ed to mode only when the umask
// took some of its bits. A chmod after a bind with the usual umask would
// leave the socket open to more users than mode says until it ran.
func listenUnix(path string, mode fs.FileMode) (*net.UnixListener, error) {
	addr := &net.UnixAddr{Name: path, Net: "unix"}
	if mode == 0 {
		l, err := net.ListenUnix("unix", addr)
		if err == nil {
			l.SetUnlinkOnClose(true)
		}
		return l, err
	}
	perm := int(mode.Perm())
	umaskMu.Lock()
	old := syscall.Umask(0o777)
	syscall.Umask(old | 0o777&^perm)
	l, err := net.ListenUnix("unix", addr)
	syscall.Umask(old)
	umaskMu.Unlock()
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(true)
	if old&perm != 0 {
		if err := os.Chmod(path, mode.Perm()); err != nil {
			l.Close()
			return nil, fmt.Errorf("chmod socket: %w", err)
		}
	}
	return l, nil
}

// peerListener closes connections from addresses outside allowed.
type peerListener struct {
	net.Listener
	allowed []netip.Prefix
	logger  *slog.Logger
}

func (pl *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := pl.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if pl.permits(c.RemoteAddr()) {
			return c, nil
		}
		pl.logger.Warn("peer refused", "remote_addr", c.RemoteAddr().String())
		c.Close()
	}
}

func (pl *peerListener) permits(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range pl.allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParsePeers reads a list of addresses and CIDRs ("127.0.0.1 10.0.0.0/8 ::1").
func ParsePeers(items []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, s := range items {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q is not an address or CIDR", s))
			continue
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, errors.Join(errs...)
}
