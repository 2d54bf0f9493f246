package server

import "golang.org/x/sys/unix"

// setCork sets or clears TCP_CORK on the socket fd.
func setCork(fd uintptr, on bool) {
	v := 0
	if on {
		v = 1
	}
	unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, v)
}
