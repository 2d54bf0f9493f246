package server

import (
	"io"
	"net"
	"sync/atomic"
)

// A large file's head leaves with the start of its body (tcpcork, the
// static app's tcp_nopush). net/http writes the head of such a response
// with one Write and then hands the body to ReadFrom (sendfile). Written
// with MSG_MORE, the head stays in the socket until the body's first
// bytes fill the segment; sendfile's last piece, sent without it, pushes
// what is left. So the client is woken once for head and body, not once
// for a segment holding the head alone, and no TCP_CORK is set and
// cleared (two system calls a response, and a corked socket's last
// segment going out on a timer): docs/benchmarks.md, "static-large: the
// head with MSG_MORE".

// The states of headConn.more.
const (
	moreOff     int32 = iota
	moreArmed         // the next Write is sent with MSG_MORE
	morePending       // a head went with MSG_MORE and nothing has pushed it yet
)

// moreState is what a headConn knows of its MSG_MORE head.
type moreState struct{ atomic.Int32 }

// Cork arms (on) MSG_MORE for the next Write on the TCP connection c
// wraps, or ends the response it was armed for (off): a head still
// held then, when no body followed it, is pushed out at once. It is
// tcpcork.Corker, which headContext puts in the connection's context. A
// connection that is not TCP is left as it is.
func (c *headConn) Cork(on bool) {
	tc, ok := innerConn(c.Conn).(*net.TCPConn)
	if !ok {
		return
	}
	if on {
		c.more.Store(moreArmed)
		return
	}
	if c.more.Swap(moreOff) == morePending {
		push(tc)
	}
}

// Write sends p, with MSG_MORE when Cork armed it.
func (c *headConn) Write(p []byte) (int, error) {
	switch c.more.Load() {
	case moreOff:
		return c.Conn.Write(p)
	case moreArmed:
		if tc, ok := innerConn(c.Conn).(*net.TCPConn); ok {
			c.more.Store(morePending)
			return writeMore(tc, p)
		}
	}
	// A second write pushes what the first held.
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.more.Store(moreOff)
	}
	return n, err
}

// ReadFrom and CloseWrite reach the connection itself, so net/http keeps
// sendfile and half-close. A body sent pushes the head held before it.
func (c *headConn) ReadFrom(r io.Reader) (int64, error) {
	n, err := readFrom(c.Conn, r)
	if n > 0 {
		c.more.CompareAndSwap(morePending, moreOff)
	}
	return n, err
}

// innerConn returns the connection under this package's wrappers.
func innerConn(c net.Conn) net.Conn {
	for {
		switch w := c.(type) {
		case *headConn:
			c = w.Conn
		case *drainConn:
			c = w.Conn
		default:
			return c
		}
	}
}
