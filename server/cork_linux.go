package server

import (
	"net"

	"golang.org/x/sys/unix"
)

// writeMore writes p to tc with MSG_MORE, waiting (within tc's write
// deadline) while the socket is full.
func writeMore(tc *net.TCPConn, p []byte) (int, error) {
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0, err
	}
	n := 0
	var serr error
	err = raw.Write(func(fd uintptr) bool {
		for n < len(p) {
			k, e := unix.SendmsgN(int(fd), p[n:], nil, nil, unix.MSG_MORE)
			if k > 0 {
				n += k
			}
			if e == unix.EINTR {
				continue
			}
			if e == unix.EAGAIN {
				return false // wait until writable
			}
			serr = e
			return true
		}
		return true
	})
	if err == nil {
		err = serr
	}
	return n, err
}

// push sends at once what a MSG_MORE write left in tc's socket: setting
// TCP_NODELAY (already on, Go's default) pushes pending segments.
func push(tc *net.TCPConn) {
	tc.SetNoDelay(true)
}
