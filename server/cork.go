package server

import "net"

// Cork sets or clears TCP_CORK on the TCP connection c wraps
// (tcpcork.Corker, which headContext puts in the connection's context).
// A failure only loses the gain; a connection that is not TCP is left as
// it is.
func (c *headConn) Cork(on bool) {
	tc, ok := innerConn(c.Conn).(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) { setCork(fd, on) })
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
