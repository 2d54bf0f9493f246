package hostile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/deploy"
	_ "github.com/gopaste/gopaste/fastcgi" // the fastcgi protocol and fastcgi_proxy
	_ "github.com/gopaste/gopaste/proxy"   // http_proxy
	"github.com/gopaste/gopaste/registry"
	_ "github.com/gopaste/gopaste/scgi"   // the scgi protocol and scgi_proxy
	_ "github.com/gopaste/gopaste/server" // the http protocol
	_ "github.com/gopaste/gopaste/uwsgi"  // the uwsgi protocol and uwsgi_proxy
)

// seen is one request as the app behind a server or proxy received it.
type seen struct {
	Method, Path  string
	Header        http.Header
	ContentLength int64
	Body          string
	BodyErr       error
}

// recorder is the app at the end of every stack: it reads the whole body,
// records the request and answers 200 "ok N" (400 when the body could not
// be read).
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, seen{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(),
		ContentLength: r.ContentLength, Body: string(body), BodyErr: err})
	rc.mu.Unlock()
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "ok %d", len(body))
}

func (rc *recorder) seen() []seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]seen(nil), rc.reqs...)
}

// panicCounter is a slog handler that counts records mentioning a panic
// and drops everything else: servers log recovered panics, and the tests
// here send nothing that should make any code panic.
type panicCounter struct{ n *atomic.Int64 }

func (p panicCounter) Enabled(context.Context, slog.Level) bool { return true }
func (p panicCounter) Handle(_ context.Context, r slog.Record) error {
	hit := strings.Contains(strings.ToLower(r.Message), "panic")
	r.Attrs(func(a slog.Attr) bool {
		if strings.Contains(strings.ToLower(a.Key+"="+a.Value.String()), "panic") {
			hit = true
		}
		return !hit
	})
	if hit {
		p.n.Add(1)
	}
	return nil
}
func (p panicCounter) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p panicCounter) WithGroup(string) slog.Handler      { return p }

// serve starts a server of the registered protocol proto (as a server
// section with no keys builds it) for h on a loopback port. stop shuts it
// down, closing it when a handler is still running after 5s, and says so.
func serve(proto string, h http.Handler, log *slog.Logger) (addr string, stop func() error, err error) {
	return serveWith(proto, h, registry.ProtocolOptions{}, log)
}

// serveWith is serve with the options a server section would give.
func serveWith(proto string, h http.Handler, o registry.ProtocolOptions, log *slog.Logger) (addr string, stop func() error, err error) {
	p, ok := registry.Default.Lookup(registry.ProtocolKind, proto)
	if !ok {
		return "", nil, fmt.Errorf("protocol %q not registered", proto)
	}
	srv, err := p.Protocol.New(h, o, log)
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	return l.Addr().String(), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx) // its error is the timeout, seen below
		select {
		case <-done:
			return nil
		case <-ctx.Done():
		}
		if c, ok := srv.(io.Closer); ok {
			c.Close()
		}
		return fmt.Errorf("%s server still busy 5s after Shutdown", proto)
	}, nil
}

// target is what the corpus runs against: the http server alone, or the
// http server with a proxy app in front of gopaste's server of the
// proxy's protocol.
type target struct {
	name    string
	backend string // protocol behind the proxy; "" for the http server alone
}

var targets = []target{
	{"http", ""},
	{"http_proxy", "http"},
	{"scgi_proxy", "scgi"},
	{"uwsgi_proxy", "uwsgi"},
	{"fastcgi_proxy", "fastcgi"},
}

// start builds tg around a new recorder and returns the address clients
// talk to.
func (tg target) start(log *slog.Logger) (addr string, rec *recorder, stop func() error, err error) {
	rec = &recorder{}
	if tg.backend == "" {
		addr, stop, err = serve("http", rec, log)
		return addr, rec, stop, err
	}
	baddr, bstop, err := serve(tg.backend, rec, log)
	if err != nil {
		return "", nil, nil, err
	}
	dir, err := os.MkdirTemp("", "hostile-")
	if err != nil {
		return "", nil, nil, errors.Join(err, bstop())
	}
	ini := filepath.Join(dir, "proxy.ini")
	conf := fmt.Sprintf("[app:main]\nuse = %s\nbackends = %s\n", tg.name, baddr)
	var a *deploy.App
	if err = os.WriteFile(ini, []byte(conf), 0o600); err == nil {
		a, err = deploy.BuildApp(ini, "main", deploy.Options{Logger: log})
	}
	var fstop func() error
	if err == nil {
		addr, fstop, err = serve("http", a.Handler, log)
		if err != nil {
			a.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, nil, errors.Join(err, bstop())
	}
	return addr, rec, func() error {
		ferr := fstop()
		a.Close()
		berr := bstop()
		os.RemoveAll(dir)
		return errors.Join(ferr, berr)
	}, nil
}
