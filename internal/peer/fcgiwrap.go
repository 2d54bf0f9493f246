package peer

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// StartFcgiwrap runs fcgiwrap with children workers under spawn-fcgi
// (in the foreground, -n) on a free loopback port and returns its address.
// It is stopped through its whole process group: a SIGTERM to the parent
// alone leaves the children holding the socket.
func StartFcgiwrap(t testing.TB, children int) string {
	t.Helper()
	spawn := Require(t, "spawn-fcgi")
	wrap := Require(t, "fcgiwrap")
	port := FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p := Start(t, StartOptions{Stop: syscall.SIGTERM, Grace: 2e9}, spawn,
		"-n", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "--", wrap, "-c", strconv.Itoa(children))
	p.WaitDial(t, "tcp", addr)
	return addr
}
