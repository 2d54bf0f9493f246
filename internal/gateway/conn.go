package gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"sync"
	"time"
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
	R *bufio.Reader
	W *bufio.Writer
	// Keep says the request may be followed by another on the
	// connection (a kept uwsgi connection): the close watch then only
	// peeks, and [Conn.Next] ends the request.
	Keep     bool
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
	if c.Keep {
		c.watching = watchPeek(c.Conn, c.R, cancel)
		return
	}
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

// Next completes w's reply on a connection that may carry another
// request (Keep) and readies R for it: it finishes and flushes the
// reply, stops the close watch, and reads and discards what the handler
// left of body (at most MaxKeepDrain bytes, as w.KeepAlive promised,
// within DrainTimeout). It reports whether the connection can read the
// next request: the reply offered keep-alive and kept to its framing
// ([Writer.Kept]) and all went well. When it reports false the caller
// closes the connection (the rest of the body was drained as Finish
// does). The error is the write error.
func (c *Conn) Next(w *Writer, body *Body) (bool, error) {
	if err := w.Finish(); err != nil {
		return false, err
	}
	if err := c.W.Flush(); err != nil {
		return false, err
	}
	if c.watching != nil {
		c.Conn.SetReadDeadline(aLongTimeAgo)
		c.watching()
		c.watching = nil
	}
	if !w.Kept() {
		Drain(c.Conn, body.Rest())
		return false, nil
	}
	if rest := body.Rest(); rest != nil {
		left := body.Unread()
		c.Conn.SetReadDeadline(time.Now().Add(DrainTimeout))
		n, err := io.Copy(io.Discard, io.LimitReader(rest, MaxKeepDrain))
		if err != nil || n != left {
			return false, nil
		}
	}
	return true, nil
}

// aLongTimeAgo is a read deadline in the past: it ends a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

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
