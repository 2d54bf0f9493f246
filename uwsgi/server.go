package uwsgi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/conntrack"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/registry"
)

// Server serves an http.Handler over uwsgi: one request per connection,
// answered with an HTTP status line, headers and the body, then a close;
// or, for a client that asks for it with KeepAliveVar (gopaste's own
// Transport), more than one, each reply framed by Content-Length or
// chunked and marked "Connection: keep-alive".
// The reply's rules (1xx, hop-by-hop headers, buffering, panics, an unread
// body) are internal/gateway's, the same for every protocol.
// Set Handler before calling Serve; a Server is safe for concurrent use.
type Server struct {
	Handler      http.Handler
	Logger       *slog.Logger  // nil means slog.Default()
	ReadTimeout  time.Duration // whole request, vars and body; zero means none
	WriteTimeout time.Duration // whole response; zero means none
	// HeaderTimeout bounds the wait for the header and vars block, from
	// the connection's start; zero means gateway.DefaultHeaderTimeout (one
	// minute). ReadTimeout, when shorter, bounds it too.
	HeaderTimeout time.Duration
	// MaxVarsBytes limits the vars block; zero means MaxVarsSize (the
	// protocol's own limit). A larger block is answered 431.
	MaxVarsBytes int
	// IdleTimeout bounds the wait for the next request on a kept
	// connection (see KeepAliveVar); zero means ReadTimeout, or
	// gateway.DefaultIdleTimeout (one minute) when that is zero too.
	IdleTimeout time.Duration

	track conntrack.Tracker
}

// Serve accepts connections on l until Shutdown or Close; it then returns
// http.ErrServerClosed.
//
// At most conntrack.DefaultLimit (10000) connections are open at once;
// more wait in the listen backlog until one closes, and the log says so.
func (s *Server) Serve(l net.Listener) error {
	s.track.SetLogger(s.logger())
	return s.track.Serve(l, s.serveConn)
}

// Shutdown stops accepting and waits for the requests being served until
// ctx is done; then it closes their connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error { return s.track.Shutdown(ctx) }

// Close closes the listeners and every connection now.
func (s *Server) Close() error { return s.track.Close() }

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) serveConn(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(gateway.HeaderTimeout(s.HeaderTimeout, s.ReadTimeout)))
	gc := gateway.NewConn(c)
	defer gc.Release()
	for first := true; s.serveRequest(gc, first); first = false {
		// A kept connection (KeepAliveVar): wait for the next request.
		if !s.track.SetBusy(c, false) {
			return
		}
		c.SetReadDeadline(time.Now().Add(gateway.IdleTimeout(s.IdleTimeout, s.ReadTimeout)))
		if _, err := gc.R.Peek(1); err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(gateway.HeaderTimeout(s.HeaderTimeout, s.ReadTimeout)))
	}
}

// serveRequest reads a request on gc and answers it. It reports whether
// the connection carries another request: the client asked for it
// (KeepAliveVar) and the reply was kept (see gateway.Conn.Next).
func (s *Server) serveRequest(gc *gateway.Conn, first bool) (keep bool) {
	c, br := gc.Conn, gc.R
	start := time.Now()
	if s.WriteTimeout > 0 {
		c.SetWriteDeadline(start.Add(s.WriteTimeout))
	}
	log := s.logger()

	hb, err := br.Peek(HeaderSize)
	if err != nil {
		if len(hb) > 0 {
			log.Warn("bad request", "remote_addr", c.RemoteAddr().String(), "err", fmt.Errorf("uwsgi: truncated header: %w", err))
		}
		return false
	}
	if first {
		if m := registry.Mismatch("uwsgi", hb); m != "" {
			log.Warn(m, "remote_addr", c.RemoteAddr().String())
			return false
		}
	}
	s.track.SetBusy(c, true)
	h := ParseHeader([HeaderSize]byte(hb))
	if h.Modifier1 != ModifierWSGI && h.Modifier1 != ModifierFixPath {
		log.Warn("unsupported modifier1", "remote_addr", c.RemoteAddr().String(), "modifier1", h.Modifier1)
		return false
	}
	limit := s.MaxVarsBytes
	if limit <= 0 || limit > MaxVarsSize {
		limit = MaxVarsSize
	}
	if int(h.Size) > limit {
		log.Warn("bad request", "remote_addr", c.RemoteAddr().String(),
			"err", fmt.Errorf("%w: %d bytes, limit %d", ErrVarsTooLarge, h.Size, limit))
		gateway.WriteStatus(gc.W, gateway.HTTPHead, http.StatusRequestHeaderFieldsTooLarge)
		return false
	}
	br.Discard(HeaderSize)
	block := make([]byte, h.Size)
	if _, err := io.ReadFull(br, block); err != nil {
		log.Warn("bad request", "remote_addr", c.RemoteAddr().String(), "err", fmt.Errorf("uwsgi: truncated vars block: %w", err))
		return false
	}
	if s.ReadTimeout > 0 {
		c.SetReadDeadline(start.Add(s.ReadTimeout))
	} else {
		c.SetReadDeadline(time.Time{})
	}
	vars := make([]cgivars.Pair, 0, 32)
	wantKeep := false
	err = ParseVars(block, func(name, value string) error {
		if name == KeepAliveVar {
			wantKeep = value == "1"
			return nil
		}
		vars = append(vars, cgivars.Pair{Name: name, Value: value})
		return nil
	})
	if err == nil && h.Modifier1 == ModifierFixPath {
		fixPath(vars)
	}
	var req *http.Request
	if err == nil {
		req, err = cgivars.ToRequest(vars, br)
	}
	if err != nil {
		log.Warn("bad request", "remote_addr", c.RemoteAddr().String(), "err", err)
		gateway.WriteStatus(gc.W, gateway.HTTPHead, http.StatusBadRequest)
		return false
	}
	if req.RemoteAddr == "" {
		req.RemoteAddr = c.RemoteAddr().String()
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	gc.Keep = wantKeep
	body := gateway.NewBody(req, func() { gc.WatchClose(cancel) })
	req.Body = body
	req = req.WithContext(ctx)
	w := gateway.NewWriter(req, gateway.HTTPHead, gc.W)
	w.Conn, w.OnError = c, cancel
	if wantKeep {
		w.KeepAlive = func() bool {
			return body.Unread() <= gateway.MaxKeepDrain && !s.track.Closing()
		}
	}
	if err := gateway.Run(s.Handler, w, req, log); err != nil {
		log.Warn("request ended early", "remote_addr", req.RemoteAddr, "method", req.Method, "path", req.URL.Path, "err", err)
		return false
	}
	if wantKeep {
		keep, err = gc.Next(w, body)
	} else {
		err = gc.Finish(w, body)
	}
	if err != nil {
		log.Debug("write response", "remote_addr", req.RemoteAddr, "err", err)
	}
	return keep
}

// fixPath implements modifier1 30: SCRIPT_NAME is removed from the front of
// PATH_INFO (nginx sends PATH_INFO=$document_uri, the whole path).
func fixPath(vars []cgivars.Pair) {
	script, _ := cgivars.Get(vars, "SCRIPT_NAME")
	script = strings.TrimSuffix(script, "/")
	if script == "" {
		return
	}
	for i := len(vars) - 1; i >= 0; i-- {
		if vars[i].Name != "PATH_INFO" {
			continue
		}
		p := vars[i].Value
		if p == script {
			vars[i].Value = ""
		} else if rest, ok := strings.CutPrefix(p, script); ok && rest[0] == '/' {
			vars[i].Value = rest
		}
		return
	}
}
