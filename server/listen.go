package server

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
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
	l, err = net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		l.(*net.UnixListener).SetUnlinkOnClose(true)
		if lc.SocketMode != 0 {
			if err := os.Chmod(addr, lc.SocketMode); err != nil {
				l.Close()
				return nil, fmt.Errorf("chmod socket: %w", err)
			}
		}
	}
	if len(lc.AllowedPeers) > 0 && network == "tcp" {
		if logger == nil {
			logger = slog.Default()
		}
		l = &peerListener{Listener: l, allowed: lc.AllowedPeers, logger: logger}
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
