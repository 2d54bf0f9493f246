package gateway

import (
	"bufio"
	"context"
	"net"
	"sync"
)

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8<<10) }}
)

// Conn is a connection that carries one request and its reply (SCGI,
// uwsgi), with pooled buffers: R reads the request, W is the Sink of the
// reply. Use it from the connection's goroutine only.
type Conn struct {
	net.Conn
	R        *bufio.Reader
	W        *bufio.Writer
	watching func()
}

// NewConn wraps c; call Release when done with it.
func NewConn(c net.Conn) *Conn {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(c)
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(c)
	return &Conn{Conn: c, R: br, W: bw}
}

// WatchClose starts the close watch on R (see [WatchClose]); call it when
// the request has been read whole, e.g. as the OnEOF of [NewBody].
func (c *Conn) WatchClose(cancel context.CancelFunc) {
	c.watching = WatchClose(c.Conn, c.R, cancel)
}

// Finish completes w's reply, flushes it, and drains what is left of body
// (see [Drain]). It returns the write error.
func (c *Conn) Finish(w *Writer, body *Body) error {
	if err := w.Finish(); err != nil {
		return err
	}
	if err := c.W.Flush(); err != nil {
		return err
	}
	Drain(c.Conn, body.Rest())
	return nil
}

// Release returns the buffers to their pools, first closing the
// connection and waiting for the close watch when one runs.
func (c *Conn) Release() {
	if c.watching != nil {
		c.Conn.Close()
		c.watching()
	}
	c.R.Reset(nil)
	readerPool.Put(c.R)
	c.W.Reset(nil)
	writerPool.Put(c.W)
}
