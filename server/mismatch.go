package server

import (
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/gopaste/gopaste/registry"
)

// mismatchListener wraps accepted connections so that the first bytes a
// client sends are checked once: a client speaking another protocol is
// logged in words ("received an SCGI request on an HTTP socket") before
// the protocol server rejects it with its own framing error. Protocols
// are named from registry.Default, as the other protocol servers do.
type mismatchListener struct {
	net.Listener
	want   string
	logger *slog.Logger
}

func (l *mismatchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &mismatchConn{Conn: c, l: l}, nil
}

type mismatchConn struct {
	net.Conn
	l    *mismatchListener
	once sync.Once
}

func (c *mismatchConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.once.Do(func() {
			if msg := registry.Mismatch(c.l.want, p[:n]); msg != "" {
				c.l.logger.Warn(msg, "remote_addr", c.RemoteAddr().String())
			}
		})
	}
	return n, err
}

// ReadFrom and CloseWrite reach the connection itself, so net/http keeps
// sendfile and half-close.
func (c *mismatchConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(c.Conn, r) }
func (c *mismatchConn) CloseWrite() error                   { return closeWrite(c.Conn) }

// readFrom hands bulk writes to the connection c wraps, so net/http keeps
// using sendfile for files: every connection wrapper here has a ReadFrom
// that calls it, or the wrapper would hide the connection's.
func readFrom(c net.Conn, r io.Reader) (int64, error) {
	if rf, ok := c.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

// closeWrite half-closes the connection c wraps (TCP), as net/http does
// after an error response; every connection wrapper here has a
// CloseWrite that calls it.
func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
