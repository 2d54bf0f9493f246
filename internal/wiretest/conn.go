// Package wiretest provides what the gateway protocols' framing, server
// and client tests share: a fake net.Conn, byte builders that write SCGI,
// uwsgi and FastCGI wire data straight from the specifications,
// independently of the encoders under test, and [Backend], a fake server
// on a real socket. It is for tests only.
package wiretest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// Conn is a net.Conn that reads R and writes to W, for driving a server or
// a client without a socket. A nil R reads EOF; with a nil W, Conn keeps
// what is written for [Conn.Written]. After Close, Read and Write return
// net.ErrClosed. Deadlines are recorded and not enforced. Writes are
// serialized, so several goroutines may write, as on a real connection;
// concurrent Reads are safe as far as R is.
type Conn struct {
	R      io.Reader
	W      io.Writer
	Local  net.Addr // nil means an unspecified TCP address
	Remote net.Addr // nil means 127.0.0.1:9

	wmu     sync.Mutex // serializes writes; not held by Close
	written []byte     // guarded by wmu

	mu            sync.Mutex
	closed        bool
	readDeadline  time.Time
	writeDeadline time.Time
}

// NewConn returns a Conn that reads b and keeps what is written.
func NewConn(b []byte) *Conn { return &Conn{R: bytes.NewReader(b)} }

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Read reads from R.
func (c *Conn) Read(p []byte) (int, error) {
	if c.isClosed() {
		return 0, net.ErrClosed
	}
	if c.R == nil {
		return 0, io.EOF
	}
	return c.R.Read(p)
}

// Write writes to W, or keeps p when W is nil.
func (c *Conn) Write(p []byte) (int, error) {
	if c.isClosed() {
		return 0, net.ErrClosed
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.W == nil {
		c.written = append(c.written, p...)
		return len(p), nil
	}
	return c.W.Write(p)
}

// Written returns a copy of what was written while W was nil.
func (c *Conn) Written() []byte {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return bytes.Clone(c.written)
}

// Close marks the connection closed; it returns net.ErrClosed when it
// already was.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.closed = true
	return nil
}

// Closed reports whether Close was called.
func (c *Conn) Closed() bool { return c.isClosed() }

// LocalAddr returns Local, or an unspecified TCP address.
func (c *Conn) LocalAddr() net.Addr {
	if c.Local != nil {
		return c.Local
	}
	return &net.TCPAddr{}
}

// RemoteAddr returns Remote, or 127.0.0.1:9.
func (c *Conn) RemoteAddr() net.Addr {
	if c.Remote != nil {
		return c.Remote
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
}

// SetDeadline records t as both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline, c.writeDeadline = t, t
	return nil
}

// SetReadDeadline records t.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline = t
	return nil
}

// SetWriteDeadline records t.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeDeadline = t
	return nil
}

// Deadlines returns the last read and write deadlines set.
func (c *Conn) Deadlines() (read, write time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readDeadline, c.writeDeadline
}

// Send returns a function that writes b to a connection, the shape
// [github.com/gopaste/gopaste/internal/peer.BadInput] takes. A failed
// write is ignored: the bad-input checks look at the server, not at the
// client's side of a connection the server may already have closed.
func Send(b []byte) func(net.Conn) {
	return func(c net.Conn) { c.Write(b) }
}

var _ net.Conn = (*Conn)(nil)
