//go:build !linux

package server

import "net"

// writeMore writes p plainly: MSG_MORE is Linux's.
func writeMore(tc *net.TCPConn, p []byte) (int, error) { return tc.Write(p) }

// push has nothing to push where writeMore held nothing back.
func push(tc *net.TCPConn) {}
