package cgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/internal/cgivars"
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
		fmt.Fprint(bw, "Status: 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n400 Bad Request\n")
		return bw.Flush()
	}
	w := &response{req: req, header: http.Header{}, bw: bw, log: log}
	if err := w.serve(h); err != nil {
		log.Warn("CGI response not delivered", "err", err)
	}
	return nil
}

// response is the http.ResponseWriter of a CGI program: headers are held
// until the first Write (so the body can be sniffed for a Content-Type) or
// Flush, then written as CGI headers.
type response struct {
	req         *http.Request
	header      http.Header
	bw          *bufio.Writer
	code        int
	wroteHeader bool // WriteHeader called
	sentHeader  bool // the header block is written
	err         error
	log         *slog.Logger
}

func (w *response) serve(h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				w.log.Error("handler panic", "panic", fmt.Sprint(p))
			}
			if !w.sentHeader {
				w.header = http.Header{}
				w.code, w.wroteHeader = http.StatusInternalServerError, true
				w.Write([]byte("500 Internal Server Error\n"))
			}
			err = errors.Join(w.bw.Flush(), w.err)
		}
	}()
	h.ServeHTTP(w, w.req)
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.sendHeader(nil)
	return errors.Join(w.bw.Flush(), w.err)
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader || code < 200 || code > 999 {
		return // informational replies do not exist in CGI output
	}
	w.wroteHeader, w.code = true, code
}

func (w *response) bodyAllowed() bool {
	return w.req.Method != http.MethodHead && w.code != http.StatusNoContent && w.code != http.StatusNotModified
}

// sendHeader writes the header block once; p is the start of the body,
// for sniffing a missing Content-Type.
func (w *response) sendHeader(p []byte) {
	if w.sentHeader {
		return
	}
	w.sentHeader = true
	if _, ok := w.header["Content-Type"]; !ok && w.bodyAllowed() && (len(p) > 0 || w.code < 300) {
		w.header.Set("Content-Type", http.DetectContentType(p))
	}
	for _, k := range []string{"Transfer-Encoding", "Connection", "Keep-Alive", "Trailer", "Status"} {
		w.header.Del(k)
	}
	text := http.StatusText(w.code)
	if text == "" {
		text = "status code " + strconv.Itoa(w.code)
	}
	fmt.Fprintf(w.bw, "Status: %d %s\r\n", w.code, text)
	w.header.Write(w.bw) // sanitizes CR/LF in values
	w.bw.WriteString("\r\n")
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.sendHeader(p)
	if !w.bodyAllowed() {
		return len(p), nil
	}
	n, err := w.bw.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// Flush sends the headers and what is buffered to the web server.
func (w *response) Flush() {
	w.FlushError()
}

// FlushError is Flush that reports the error (http.ResponseController
// uses it).
func (w *response) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.sendHeader(nil)
	err := w.bw.Flush()
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

var _ http.Flusher = (*response)(nil)

// OneShot marks a server that answers one request and returns, so
// "gopaste serve" keeps its stderr free of lifecycle lines.
func (s *Server) OneShot() {}
