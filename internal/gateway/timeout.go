package gateway

import "time"

// DefaultHeaderTimeout and DefaultIdleTimeout are the gateway servers'
// read limits when they are not configured, so that a connection that
// sends nothing, or trickles its head, does not stay open for ever (issue
// 12): one minute, as net/http servers are commonly given.
//
//   - the head of a request (SCGI netstring, uwsgi vars, FastCGI PARAMS)
//     must arrive within the header timeout of its first byte;
//   - a connection with no request (before the first, or between two on
//     a kept FastCGI connection) is closed after the idle timeout.
const (
	DefaultHeaderTimeout = time.Minute
	DefaultIdleTimeout   = time.Minute
)

// HeaderTimeout returns the header timeout of a server configured with
// header (zero: DefaultHeaderTimeout) and read, its whole-request limit
// (zero: none), which also caps the head.
func HeaderTimeout(header, read time.Duration) time.Duration {
	if header <= 0 {
		header = DefaultHeaderTimeout
	}
	if read > 0 && read < header {
		return read
	}
	return header
}

// IdleTimeout returns the idle timeout of a server configured with idle,
// else read, else DefaultIdleTimeout.
func IdleTimeout(idle, read time.Duration) time.Duration {
	switch {
	case idle > 0:
		return idle
	case read > 0:
		return read
	}
	return DefaultIdleTimeout
}
