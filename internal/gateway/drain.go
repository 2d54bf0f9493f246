package gateway

import (
	"io"
	"net"
	"time"
)

// MaxDrain and DrainTimeout bound what Drain reads: at most MaxDrain bytes
// of a request body the handler left unread, for at most DrainTimeout.
const (
	MaxDrain     = 4 << 20
	DrainTimeout = 2 * time.Second
)

// MaxKeepDrain is how much of a request body the handler may leave
// unread for a kept connection to carry the next request (see
// [Conn.Next]): the rest is read and discarded first. With more unread,
// the reply does not offer keep-alive.
const MaxKeepDrain = 64 << 10

// Drain ends a connection whose reply is complete and flushed but whose
// request body the handler did not read to its end (body reads the rest
// of it; nil means nothing is left). Closing a socket with unread input
// makes the kernel answer with a reset, and a reset makes the web server
// drop what it has not read yet of the reply: nginx logs "readv() failed
// (104: Connection reset by peer)" and the client gets a 502. So, as
// net/http does, the reply is delivered first: the write side is
// half-closed (the web server sees the end of the reply at once), then
// the rest of the body is read and discarded, up to MaxDrain bytes within
// DrainTimeout. A larger or slower body may still meet a reset. c may be
// nil (CGI: only the body is read). The caller closes c afterwards.
func Drain(c net.Conn, body io.Reader) {
	if body == nil {
		return
	}
	if c != nil {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		c.SetReadDeadline(time.Now().Add(DrainTimeout))
	}
	io.Copy(io.Discard, io.LimitReader(body, MaxDrain))
}
