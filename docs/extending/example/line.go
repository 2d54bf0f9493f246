package example

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

// The line protocol is a toy: the client sends a path and a newline
// ("/ann\n"); the server answers with the status code, a space and the
// body ("200 Hello, ann! visit 1\n") and closes the connection.
var lineProtocol = registry.Protocol{
	New: newLineServing,
	// A line request starts with "/", which no other registered protocol
	// claims; Order 50 tries it after http, scgi and fastcgi and before
	// uwsgi, which takes anything.
	Sniff:   func(first []byte) bool { return first[0] == '/' },
	Order:   50,
	Article: "a line",
}

func init() {
	registry.RegisterProtocol("line", lineProtocol, "line: a path and a newline; the reply is the status and the body")
	registry.RegisterServer("line", lineServerFactory, "serves the line protocol (an example)")
}

// lineServerFactory builds a [server:NAME] section with "use = line":
// server.Server brings the listener (host, port, socket), the concurrency
// limits, graceful shutdown and "protocol = auto"; the protocol, looked up
// by name in c.Registry, brings the framing.
func lineServerFactory(c *registry.Config) (registry.Server, error) {
	o := server.ReadOptions(c, "line", 7070)
	return &server.Server{Options: o, Logger: c.Logger, Registry: c.Registry}, c.Err()
}

// newLineServing is the protocol's factory: server.Server calls it with
// the handler and the section's options once it has a listener.
func newLineServing(h http.Handler, o registry.ProtocolOptions, logger *slog.Logger) (registry.Serving, error) {
	return &LineServer{Handler: h, Logger: logger, ReadTimeout: o.ReadTimeout}, nil
}

// LineServer serves an http.Handler over the line protocol. It has the
// two methods of *http.Server that package server uses.
type LineServer struct {
	Handler     http.Handler
	Logger      *slog.Logger  // must not be nil
	ReadTimeout time.Duration // zero means 10 seconds

	mu        sync.Mutex
	closing   bool
	listeners []net.Listener
	conns     sync.WaitGroup
}

// Serve accepts connections on l until Shutdown, then returns
// http.ErrServerClosed.
func (s *LineServer) Serve(l net.Listener) error {
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	for {
		c, err := l.Accept()
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			if c != nil {
				c.Close()
			}
			return http.ErrServerClosed
		}
		if err != nil {
			s.mu.Unlock()
			return err
		}
		s.conns.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.conns.Done()
			s.serveConn(c)
		}()
	}
}

// Shutdown stops accepting and waits for the requests being served until
// ctx is done.
func (s *LineServer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *LineServer) serveConn(c net.Conn) {
	defer c.Close()
	timeout := s.ReadTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	c.SetReadDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadSlice('\n')
	if len(line) > 0 && line[0] != '/' {
		// Another protocol's client: say which, as every server does.
		if msg := registry.Mismatch("line", line); msg != "" {
			s.Logger.Warn(msg, "remote_addr", c.RemoteAddr().String())
			return
		}
	}
	if err != nil || line[0] != '/' {
		s.Logger.Warn("bad line request", "remote_addr", c.RemoteAddr().String(), "err", err)
		return
	}
	r, err := http.NewRequest(http.MethodGet, string(bytes.TrimSpace(line)), nil)
	if err != nil {
		fmt.Fprint(c, "400 bad path\n")
		return
	}
	r.RequestURI = r.URL.RequestURI()
	r.RemoteAddr = c.RemoteAddr().String()
	w := &lineWriter{header: make(http.Header)}
	if !s.run(w, r) {
		return // http.ErrAbortHandler, or a panic: no reply
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	fmt.Fprintf(c, "%d %s", w.status, w.body.Bytes())
}

// run calls the handler and reports whether it returned normally; a
// panic is logged, except http.ErrAbortHandler, which means "abort
// quietly".
func (s *LineServer) run(w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			s.Logger.Error("handler panic", "path", r.URL.Path, "panic", v)
		}
	}()
	s.Handler.ServeHTTP(w, r)
	return true
}

// lineWriter keeps the status and the body until the handler returns.
type lineWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *lineWriter) Header() http.Header { return w.header }

func (w *lineWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim: not the reply
		w.status = code
	}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}
