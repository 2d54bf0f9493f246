package server

import (
	"io"
	"log/slog"
	"net"

	"github.com/gopaste/gopaste/registry"
)

// logMismatch logs, in words, a client speaking another protocol to an
// HTTP port, given the first bytes it sent ("received an SCGI request on
// an HTTP socket"), before net/http rejects it with its own framing
// error. Protocols are named from registry.Default, as the other
// protocol servers do. headConn calls it on its first read.
func logMismatch(logger *slog.Logger, c net.Conn, first []byte) {
	if msg := registry.Mismatch("http", first); msg != "" {
		logger.Warn(msg, "remote_addr", c.RemoteAddr().String())
	}
}

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
