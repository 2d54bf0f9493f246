package server

import (
	"sync"
	"time"
)

// This file holds headConn's read deadline: net/http's header timeout
// without a runtime timer per request.
//
// net/http sets a read deadline (ReadHeaderTimeout, the slowloris
// defence) once a request's first bytes have arrived, and clears it once
// the head is read. The head nearly always arrives whole with those first
// bytes, so no read happens in between, and arming the timer and stopping
// it again was all the deadline did: about 0.55 µs a request on the
// 2-core VM, the largest part of what gopaste's hello costs over a
// net/http server without timeouts (docs/benchmarks.md, "What gopaste's
// server adds to a request, counted"). So a deadline set while no read
// is running is kept, and given to the connection when the next read
// starts; one set during a read (net/http's abort of its background read,
// a handler's) is given at once. The deadline is the same absolute time
// either way, so a head that does not arrive in time fails as before.

// readDeadline is the read deadline of a headConn. The zero value has
// none.
type readDeadline struct {
	mu      sync.Mutex
	want    time.Time // the last deadline set
	armed   time.Time // the last deadline given to the connection
	reading int       // reads running
}

// SetReadDeadline sets the deadline of reads from now on and of the reads
// running.
func (c *headConn) SetReadDeadline(t time.Time) error {
	d := &c.deadline
	d.mu.Lock()
	defer d.mu.Unlock()
	d.want = t
	if d.reading == 0 {
		return nil // the next read gives it to the connection
	}
	d.armed = t
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline is SetReadDeadline and SetWriteDeadline.
func (c *headConn) SetDeadline(t time.Time) error {
	err := c.SetReadDeadline(t)
	if werr := c.Conn.SetWriteDeadline(t); err == nil {
		err = werr
	}
	return err
}

// startRead gives the connection the deadline set last, if it has
// another, and counts a read running until endRead.
func (c *headConn) startRead() {
	d := &c.deadline
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.want.Equal(d.armed) {
		// An error here (a closed connection) is the read's too.
		c.Conn.SetReadDeadline(d.want)
		d.armed = d.want
	}
	d.reading++
}

func (c *headConn) endRead() {
	c.deadline.mu.Lock()
	c.deadline.reading--
	c.deadline.mu.Unlock()
}
