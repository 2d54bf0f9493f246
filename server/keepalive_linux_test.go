package server

import (
	"net"
	"syscall"
	"testing"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// TestGatewayListenerNoKeepAlive: a gateway protocol's listener accepts
// connections without TCP keep-alive (four setsockopt fewer a
// connection, which nginx opens per request for SCGI and uwsgi); the
// http server's keep Go's probes for clients that vanish.
func TestGatewayListenerNoKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		want     int
	}{
		{"scgi", 0},
		{"uwsgi", 0},
		{"fastcgi", 0},
		{"http", 1},
	} {
		c := registrytest.Config(registry.ServerKind, "server:main", "/srv/site/site.ini", map[string]string{"port": "0"})
		o := ReadOptions(c, tc.protocol, 0)
		if err := c.Err(); err != nil {
			t.Fatal(err)
		}
		l, err := o.Listen.Listen(nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		a, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := a.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		got := -1
		raw.Control(func(fd uintptr) {
			got, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		})
		if err != nil || got != tc.want {
			t.Errorf("%s: SO_KEEPALIVE = %d (%v), want %d", tc.protocol, got, err, tc.want)
		}
		a.Close()
		d.Close()
		l.Close()
	}
}
