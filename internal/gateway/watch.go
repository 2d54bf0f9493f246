package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// WatchClose cancels a request's context when the web server closes the
// connection, as net/http does when its client goes away: nginx closes
// its upstream connection when its own client does. Call it once the
// request has been read whole (nothing more is due from the web server),
// with r reading the rest of the connection (the connection itself, or a
// buffered reader on it).
//
// The watching goroutine reads from r until an error: any error but a
// timeout calls cancel; bytes that arrive are discarded (a web server has
// nothing more to send). It ends when the server closes c after the
// reply; the returned wait blocks until it has (call it after closing c,
// before reusing r's buffers). c's read deadline is cleared first: the
// request's ReadTimeout is over.
func WatchClose(c net.Conn, r io.Reader, cancel context.CancelFunc) (wait func()) {
	c.SetReadDeadline(time.Time{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [64]byte
		for {
			_, err := r.Read(b[:])
			if err == nil {
				continue
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				cancel()
			}
			return
		}
	}()
	return func() { <-done }
}

// watchPeek is WatchClose for a connection that may carry another
// request: it only peeks at br, so the next request's bytes stay there,
// and their arrival ends the watch as a timeout does.
func watchPeek(c net.Conn, br *bufio.Reader, cancel context.CancelFunc) (wait func()) {
	c.SetReadDeadline(time.Time{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := br.Peek(1)
		var ne net.Error
		if err != nil && (!errors.As(err, &ne) || !ne.Timeout()) {
			cancel()
		}
	}()
	return func() { <-done }
}

// Body is a request body that notes whether the handler read it to its
// end. It runs OnEOF once, on the Read that meets the end: the server
// starts WatchClose there, since nothing more is due from the web server.
type Body struct {
	io.ReadCloser
	OnEOF func()
	eof   atomic.Bool
	left  atomic.Int64 // bytes not read yet
}

// NewBody wraps req.Body; an empty body is at its end already, and onEOF
// runs at once.
func NewBody(req *http.Request, onEOF func()) *Body {
	b := &Body{ReadCloser: req.Body, OnEOF: onEOF}
	b.left.Store(max(req.ContentLength, 0))
	if req.ContentLength == 0 || req.Body == nil || req.Body == http.NoBody {
		b.eof.Store(true)
		if onEOF != nil {
			onEOF()
		}
	}
	return b
}

func (b *Body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.left.Add(-int64(n))
	if err == io.EOF && !b.eof.Swap(true) && b.OnEOF != nil {
		b.OnEOF()
	}
	return n, err
}

// Unread returns how many bytes of the body are left to read: of its
// Content-Length, those the handler has not read.
func (b *Body) Unread() int64 {
	if b.eof.Load() {
		return 0
	}
	return max(b.left.Load(), 0)
}

// Rest returns what is left to read of the body, for Drain: nil when the
// handler read it to its end.
func (b *Body) Rest() io.Reader {
	if b.eof.Load() {
		return nil
	}
	return b.ReadCloser
}
