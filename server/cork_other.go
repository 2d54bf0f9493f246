//go:build !linux

package server

import (
	"io"
	"net"
)

// sendFileCorked is c.ReadFrom where TCP_CORK is not known.
func sendFileCorked(c *net.TCPConn, r io.Reader) (int64, error) { return c.ReadFrom(r) }
