package server

import (
	"io"
	"net"

	"golang.org/x/sys/unix"
)

// sendFileCorked sends r to c (sendfile) with TCP_CORK set, and clears it
// after, which sends the last partial segment. A failure to set the
// option only loses the gain.
func sendFileCorked(c *net.TCPConn, r io.Reader) (int64, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return c.ReadFrom(r)
	}
	cork := func(on int) {
		raw.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, on) })
	}
	cork(1)
	defer cork(0)
	return c.ReadFrom(r)
}
