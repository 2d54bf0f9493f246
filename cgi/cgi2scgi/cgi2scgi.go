// Package cgi2scgi is the "gopaste cgi2scgi" command: a CGI program that
// forwards its request to an SCGI server and writes the reply back as CGI
// output, as the cgi2scgi.c of the SCGI distribution did. A web server
// that can only run CGI programs (Apache mod_cgi, fcgiwrap, gopaste's own
// cgi app) can so reach a long-running SCGI application.
//
// It is gopaste's cgi server (cgi.Server: the request read from the CGI
// environment and stdin by the rules of internal/cgivars, the reply
// written as CGI output) in front of the scgi_proxy app's proxy and
// scgi.Transport: the request the web server described is sent on as
// SCGI headers and body, and the reply, read by the one gateway reply
// parser, is copied back as it arrives. This program is not a hop: the
// X-Forwarded-For, -Host and -Proto headers go on as the web server sent
// them (a client's X-Forwarded-Prefix does not: SCRIPT_NAME says the
// prefix).
package cgi2scgi

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"os"
	"sync"
	"time"

	"github.com/gopaste/gopaste/cgi"
	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/proxy"
	"github.com/gopaste/gopaste/scgi"
)

func init() {
	cli.AddCommand("cgi2scgi", "run as a CGI program that forwards the request to an SCGI server", run)
}

// Options configure Forward.
type Options struct {
	// Addr is the SCGI server: "host:port" or "unix:/path".
	Addr string
	// Env is the CGI environment, "NAME=value" strings.
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	// DialTimeout bounds connecting; zero means 10 seconds.
	DialTimeout time.Duration
	// Timeout bounds the whole exchange; zero means none.
	Timeout time.Duration
	// Logger gets why a request failed; nil means slog.Default().
	Logger *slog.Logger
}

// Forward serves the CGI request of o.Env and o.Stdin by sending it to
// the SCGI server at o.Addr and copying the reply to o.Stdout. When the
// server cannot be reached or its reply is malformed, the output is a 502
// (504 for a timeout) and the error is returned; a request the CGI
// environment does not describe correctly is answered 400 (and logged).
func Forward(ctx context.Context, o Options) error {
	rec := &recorder{}
	var h http.Handler
	b, err := proxy.ParseBackend(o.Addr)
	if err != nil {
		rec.set(fmt.Errorf("cgi2scgi: %w", err))
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		})
	} else {
		vars := cgi.Vars(o.Env)
		get := func(name string) string { v, _ := cgivars.Get(vars, name); return v }
		rec.rt = &scgi.Transport{
			Addr:        o.Addr,
			DialTimeout: o.DialTimeout,
			Vars: cgivars.Options{
				NoForwarded:    true,
				DocumentRoot:   get("DOCUMENT_ROOT"),
				ServerSoftware: get("SERVER_SOFTWARE"),
			},
		}
		p, err := proxy.New(proxy.Options{
			Backends:      []proxy.Backend{b},
			NewTransport:  func(proxy.Backend) http.RoundTripper { return rec },
			Rewrite:       keepForwarded,
			RequireLength: true,
			Timeout:       o.Timeout,
			Logger:        o.Logger,
		})
		if err != nil {
			return fmt.Errorf("cgi2scgi: %w", err)
		}
		defer p.Close()
		h = p
	}
	s := &cgi.Server{Env: o.Env, Stdin: o.Stdin, Stdout: o.Stdout, Logger: o.Logger}
	if err := s.Run(ctx, h); err != nil {
		return err
	}
	return rec.get()
}

// keepForwarded passes the X-Forwarded-For, -Host and -Proto headers the
// web server sent on as they are: this program relays a request, it is
// not a hop.
func keepForwarded(pr *httputil.ProxyRequest) {
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		if v := pr.In.Header[k]; len(v) > 0 {
			pr.Out.Header[k] = v
		}
	}
}

// recorder is the proxy's RoundTripper: rt, keeping the first error for
// Forward to return (a CGI program serves one request).
type recorder struct {
	rt  http.RoundTripper
	mu  sync.Mutex
	err error
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.rt.RoundTrip(req)
	if err != nil {
		r.set(err)
	}
	return res, err
}

func (r *recorder) set(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

func (r *recorder) get() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func run(e *cli.Env, args []string) int {
	fs := newFlagSet(e)
	addr := fs.String("addr", "", "the SCGI server, host:port or unix:/path (default $SCGI_ADDR)")
	timeout := fs.Duration("timeout", 0, "bound the whole exchange (0: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *addr == "" {
		*addr = os.Getenv("SCGI_ADDR")
	}
	if *addr == "" {
		fmt.Fprintln(e.Stderr, "gopaste cgi2scgi: no SCGI server: give --addr or set SCGI_ADDR")
		fmt.Fprint(e.Stdout, "Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n500 Internal Server Error\n")
		return 2
	}
	stderr := e.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	err := Forward(e.Context, Options{
		Addr: *addr, Env: os.Environ(), Stdin: e.Stdin, Stdout: e.Stdout, Timeout: *timeout,
		Logger: slog.New(slog.NewTextHandler(stderr, nil)).With("component", "cgi2scgi"),
	})
	if err != nil {
		fmt.Fprintf(stderr, "gopaste cgi2scgi: %v\n", err)
		return 1
	}
	return 0
}
