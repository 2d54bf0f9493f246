package cgivars

import (
	"bufio"
	"errors"
	"io"
	"net"
	"time"
)

// ShortReply reports whether the body of a reply whose headers were just
// read from br (over c) ends within br's buffer, waiting at most wait for
// the backend to finish it; n is then the body's length. Gateways that
// close the connection to end a reply (SCGI, uwsgi) use it to give short
// replies a Content-Length, so a proxy sends them in one write instead of
// flushing them as a stream. A reply still going after wait, or larger
// than the buffer, is left to stream; nothing read is lost either way.
func ShortReply(c net.Conn, br *bufio.Reader, wait time.Duration) (n int, ok bool) {
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return 0, false
	}
	_, err := br.Peek(br.Size())
	c.SetReadDeadline(time.Time{})
	if errors.Is(err, io.EOF) {
		return br.Buffered(), true
	}
	// A timeout or a full buffer: a stream or a long reply. Any other
	// error shows again on the next read.
	return 0, false
}
