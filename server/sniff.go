package server

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gopaste/gopaste/registry"
)

// sniffer accepts on one listener and hands each connection to the
// sub-listener of the protocol its first bytes belong to: the first, in
// the registry's sniffing order, whose Sniff claims them.
type sniffer struct {
	l       net.Listener
	timeout time.Duration
	logger  *slog.Logger
	subs    []*subListener
	protos  []*registry.Protocol
}

func newSniffer(l net.Listener, timeout time.Duration, logger *slog.Logger) *sniffer {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &sniffer{l: l, timeout: timeout, logger: logger}
}

func (s *sniffer) add(p *registry.Protocol) net.Listener {
	sl := &subListener{addr: s.l.Addr(), ch: make(chan net.Conn), done: make(chan struct{})}
	s.subs = append(s.subs, sl)
	s.protos = append(s.protos, p)
	return sl
}

// run accepts until the listener is closed, then closes the sub-listeners.
func (s *sniffer) run() {
	defer func() {
		for _, sl := range s.subs {
			sl.Close()
		}
	}()
	for {
		c, err := s.l.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		go s.route(c)
	}
}

func (s *sniffer) route(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(s.timeout))
	buf := make([]byte, 4)
	n, err := io.ReadAtLeast(c, buf, 1)
	for err == nil && n < 2 {
		// One byte cannot tell FastCGI from uwsgi; wait for a second.
		var m int
		m, err = c.Read(buf[n:])
		n += m
	}
	c.SetReadDeadline(time.Time{})
	if n < 2 {
		// Closed or timed out before two bytes: no request is one byte,
		// and routing it (uwsgi takes anything) would give it the
		// protocol's own timeout on top of this one.
		c.Close()
		return
	}
	first := buf[:n]
	for i, p := range s.protos {
		if p.Sniff(first) {
			pc := &prefixConn{Conn: c, prefix: first}
			select {
			case s.subs[i].ch <- pc:
			case <-s.subs[i].done:
				c.Close()
			}
			return
		}
	}
	s.logger.Warn("unknown protocol on auto socket", "remote_addr", c.RemoteAddr().String())
	c.Close()
}

// prefixConn replays the sniffed bytes before reading from the connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// subListener is a net.Listener fed by the sniffer.
type subListener struct {
	addr net.Addr
	ch   chan net.Conn
	once sync.Once
	done chan struct{}
}

func (l *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *subListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *subListener) Addr() net.Addr { return l.addr }

// ReadFrom and CloseWrite reach the connection itself, so net/http keeps
// sendfile and half-close on sniffed connections.
func (c *prefixConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(c.Conn, r) }
func (c *prefixConn) CloseWrite() error                   { return closeWrite(c.Conn) }
