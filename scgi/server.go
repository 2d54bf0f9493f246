package scgi

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/conntrack"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

// Server serves an http.Handler over SCGI: one request per connection,
// the header netstring then exactly CONTENT_LENGTH bytes of body (it never
// waits for EOF: web servers do not half-close), a CGI-style reply
// ("Status: 200 OK" and headers, which nginx, Apache and lighttpd all
// take), and the connection closed to end it. The reply's rules (1xx,
// hop-by-hop headers, buffering, panics, an unread body) are
// internal/gateway's, the same for every protocol.
//
// Set the fields before calling Serve; a Server is then safe for
// concurrent use.
type Server struct {
	Handler http.Handler
	Logger  *slog.Logger // nil means slog.Default()
	// ReadTimeout bounds reading the headers and body; zero means none.
	ReadTimeout time.Duration
	// HeaderTimeout bounds the wait for the header netstring, from the
	// connection's start; zero means gateway.DefaultHeaderTimeout (one
	// minute). ReadTimeout, when shorter, bounds it too.
	HeaderTimeout time.Duration
	// WriteTimeout bounds writing the reply, from the end of the headers;
	// zero means none.
	WriteTimeout time.Duration
	// MaxHeaderBytes bounds the header netstring; zero means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int

	track conntrack.Tracker
}

// ErrServerClosed is what Serve returns after Shutdown; it is
// http.ErrServerClosed so the server package treats both alike.
var ErrServerClosed = http.ErrServerClosed

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// Serve accepts connections on l and serves each in its own goroutine
// until Shutdown, then returns ErrServerClosed.
//
// At most conntrack.DefaultLimit (10000) connections are open at once;
// more wait in the listen backlog until one closes, and the log says so.
func (s *Server) Serve(l net.Listener) error {
	s.track.SetLogger(s.logger())
	return s.track.Serve(l, s.serveConn)
}

// Shutdown stops accepting, closes connections that have not started a
// request, waits for the others to finish until ctx is done, and then
// closes what is left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.track.Shutdown(ctx) }

// Close closes the listeners and every connection now.
func (s *Server) Close() error { return s.track.Close() }

// serveConn serves the one request of c; conntrack closes c after.
func (s *Server) serveConn(c net.Conn) {
	remote := c.RemoteAddr().String()
	start := time.Now()
	c.SetReadDeadline(start.Add(gateway.HeaderTimeout(s.HeaderTimeout, s.ReadTimeout)))
	gc := gateway.NewConn(c)
	defer gc.Release()
	br := gc.R
	first, err := br.Peek(1)
	if err != nil {
		return // closed before sending anything: a port probe, or Shutdown
	}
	s.track.SetBusy(c, true)
	if first[0] < '1' || first[0] > '9' {
		s.wrongProtocol(c, br, remote)
		return
	}
	vars, err := ReadHeaders(br, s.MaxHeaderBytes)
	if err != nil {
		s.logger().Warn("bad scgi request", "remote_addr", remote, "err", err)
		return
	}
	if s.ReadTimeout > 0 {
		c.SetReadDeadline(start.Add(s.ReadTimeout))
	} else {
		c.SetReadDeadline(time.Time{})
	}
	req, err := cgivars.ToRequest(vars, br)
	if s.WriteTimeout > 0 {
		c.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
	}
	if err != nil {
		s.logger().Warn("bad scgi request", "remote_addr", remote, "err", err)
		gateway.WriteStatus(gc.W, gateway.CGIHead, http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.LocalAddr())
	if req.RemoteAddr == "" {
		req.RemoteAddr = remote
	}
	body := gateway.NewBody(req, func() { gc.WatchClose(cancel) })
	req.Body = body
	req = req.WithContext(ctx)
	w := gateway.NewWriter(req, gateway.CGIHead, gc.W)
	w.Conn, w.OnError = c, cancel
	if err := gateway.Run(s.Handler, w, req, s.logger()); err != nil {
		return // aborted: close without finishing the reply
	}
	gc.Finish(w, body) // an error means the web server is gone
}

// wrongProtocol logs a connection that speaks another protocol, and
// answers an HTTP client in its own language.
func (s *Server) wrongProtocol(c net.Conn, br *bufio.Reader, remote string) {
	b, _ := br.Peek(min(br.Buffered(), 4))
	if len(b) < 2 {
		b, _ = br.Peek(2)
	}
	msg := registry.Mismatch("scgi", b)
	if msg == "" {
		s.logger().Warn("bad scgi request", "remote_addr", remote, "err", fmt.Errorf("%w: starts with %q", ErrMalformed, b))
		return
	}
	s.logger().Warn(msg, "remote_addr", remote)
	if registry.Detect(b) == "http" {
		const text = "This port speaks SCGI, not HTTP: point a web server's scgi_pass at it.\n"
		fmt.Fprintf(c, "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(text), text)
	}
}

var _ server.Serving = (*Server)(nil)
