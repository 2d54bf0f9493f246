package cgi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
)

// Server serves one request as a CGI program: the request comes from the
// environment and stdin, the response goes to stdout as CGI output (a
// "Status:" line, the headers, an empty line, the body). A web server runs
// the program once per request. Set the fields before Run; the zero value
// uses the process's own environment and standard streams.
type Server struct {
	// Env is the environment, "NAME=value" strings; nil means
	// os.Environ().
	Env []string
	// Stdin and Stdout default to os.Stdin and os.Stdout.
	Stdin  io.Reader
	Stdout io.Writer
	Logger *slog.Logger // nil means slog.Default()
}

// ErrNotCGI reports a Server run outside a CGI environment (no
// REQUEST_METHOD).
var ErrNotCGI = errors.New("cgi: not run as a CGI program (REQUEST_METHOD is not set)")

// cgiNames are the variables a web server sets for a CGI program, besides
// HTTP_*: RFC 3875's, and those Apache and nginx add.
var cgiNames = map[string]bool{
	"AUTH_TYPE": true, "CONTENT_LENGTH": true, "CONTENT_TYPE": true,
	"GATEWAY_INTERFACE": true, "PATH_INFO": true, "PATH_TRANSLATED": true,
	"QUERY_STRING": true, "REMOTE_ADDR": true, "REMOTE_HOST": true,
	"REMOTE_IDENT": true, "REMOTE_USER": true, "REQUEST_METHOD": true,
	"SCRIPT_NAME": true, "SERVER_NAME": true, "SERVER_PORT": true,
	"SERVER_PROTOCOL": true, "SERVER_SOFTWARE": true,
	"REMOTE_PORT": true, "REQUEST_URI": true, "REQUEST_SCHEME": true,
	"DOCUMENT_URI": true, "DOCUMENT_ROOT": true, "SCRIPT_FILENAME": true,
	"HTTPS": true, "SERVER_ADDR": true,
}

// Vars returns the CGI variables of environment env (NAME=value strings):
// the CGI names and HTTP_* ones, nothing else of the program's environment.
// A missing PATH_INFO is an empty one: for CGI, SCRIPT_NAME is always the
// script, however the web server spells the rest.
func Vars(env []string) []cgivars.Pair {
	vars := make([]cgivars.Pair, 0, 32)
	havePathInfo := false
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !(cgiNames[k] || strings.HasPrefix(k, "HTTP_")) {
			continue
		}
		havePathInfo = havePathInfo || k == "PATH_INFO"
		vars = append(vars, cgivars.Pair{Name: k, Value: v})
	}
	if !havePathInfo {
		vars = append(vars, cgivars.Pair{Name: "PATH_INFO", Value: ""})
	}
	return vars
}

// Run serves the one request and returns; ctx is not waited on (the web
// server ends the program by closing its pipes or killing it). It returns ErrNotCGI
// outside a CGI environment; a malformed request is answered 400 and is
// not an error.
func (s *Server) Run(ctx context.Context, h http.Handler) error {
	env := s.Env
	if env == nil {
		env = os.Environ()
	}
	stdin, stdout := s.Stdin, s.Stdout
	if stdin == nil {
		stdin = os.Stdin
	}
	if stdout == nil {
		stdout = os.Stdout
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	vars := Vars(env)
	if m, _ := cgivars.Get(vars, "REQUEST_METHOD"); m == "" {
		return ErrNotCGI
	}
	bw := bufio.NewWriterSize(stdout, 32<<10)
	req, err := cgivars.ToRequest(vars, bufio.NewReaderSize(stdin, 32<<10))
	if err != nil {
		log.Warn("bad CGI request", "err", err)
		return gateway.WriteStatus(bw, gateway.CGIHead, http.StatusBadRequest)
	}
	body := gateway.NewBody(req, nil)
	req.Body = body
	w := gateway.NewWriter(req, gateway.CGIHead, bw)
	w.Conn = files{stdin, stdout}
	if err := gateway.Run(h, w, req, log); err != nil {
		// The web server takes the end of the output for the end of
		// the reply: what was sent stays cut, and the log says so.
		bw.Flush()
		log.Warn("CGI response not delivered", "err", err)
		return nil
	}
	if err := errors.Join(w.Finish(), bw.Flush()); err != nil {
		log.Warn("CGI response not delivered", "err", err)
		return nil
	}
	// A web server may still be writing the body into stdin: reading it
	// spares it a broken pipe.
	gateway.Drain(nil, body.Rest())
	return nil
}

// files gives http.ResponseController the deadlines of stdin and stdout
// when they are pipes or sockets (*os.File); others answer
// http.ErrNotSupported.
type files struct {
	in  io.Reader
	out io.Writer
}

func (f files) SetReadDeadline(t time.Time) error {
	if d, ok := f.in.(interface{ SetReadDeadline(time.Time) error }); ok {
		return d.SetReadDeadline(t)
	}
	return http.ErrNotSupported
}

func (f files) SetWriteDeadline(t time.Time) error {
	if d, ok := f.out.(interface{ SetWriteDeadline(time.Time) error }); ok {
		return d.SetWriteDeadline(t)
	}
	return http.ErrNotSupported
}

// OneShot marks a server that answers one request and returns, so
// "gopaste serve" keeps its stderr free of lifecycle lines.
func (s *Server) OneShot() {}
