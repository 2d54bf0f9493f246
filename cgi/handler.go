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
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/proc"
)

// Options configure a Handler. Exactly one of Script and Dir is set.
type Options struct {
	// Script is the program every request runs (PATH_INFO is the path
	// below the mount point).
	Script string
	// Dir is a directory of scripts: the first segments of the request
	// path that name a file in Dir select the script, the rest is
	// PATH_INFO. Paths never leave Dir (it is opened as an os.Root), and
	// segments starting with a dot are refused.
	Dir string
	// Interpreter, when set, runs the script: Interpreter[0] with
	// Interpreter[1:] and the script's path as arguments ("/usr/bin/perl",
	// "-w"). Scripts then need not be executable.
	Interpreter []string
	// PassEnv names the environment variables of this process the script
	// gets. Nothing else of the environment reaches it; PATH, unless
	// named here, is DefaultPath.
	PassEnv []string
	// Timeout bounds a request from the script's start; when it passes the
	// script's process group is killed and the client gets 504 (or a cut
	// response when the headers were already sent). Zero means none.
	Timeout time.Duration
	// MaxHeaderBytes bounds the script's header block; zero means 64 KiB.
	MaxHeaderBytes int
	// Logger gets the script's stderr (Warn) and failures; nil means
	// slog.Default().
	Logger *slog.Logger
}

// DefaultPath is the PATH scripts get unless PassEnv names PATH.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

// drainDelay is how long output is still read after the script's process
// group is gone, for descendants that left the group (setsid) but kept
// its stdout open.
const drainDelay = 5 * time.Second

// Handler runs CGI scripts. It is safe for concurrent use; Close releases
// the script directory.
type Handler struct {
	opts   Options
	root   *os.Root // Dir, when set
	dir    string   // Dir made absolute
	script string   // Script made absolute
	logger *slog.Logger
}

// New validates o and returns a Handler.
func New(o Options) (*Handler, error) {
	h := &Handler{opts: o, logger: o.Logger}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	if (o.Script == "") == (o.Dir == "") {
		return nil, errors.New("cgi: set exactly one of script and script_dir")
	}
	if len(o.Interpreter) > 0 {
		if _, err := exec.LookPath(o.Interpreter[0]); err != nil {
			return nil, fmt.Errorf("cgi: interpreter: %w", err)
		}
	}
	if o.Script != "" {
		abs, err := filepath.Abs(o.Script)
		if err != nil {
			return nil, fmt.Errorf("cgi: script: %w", err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("cgi: script: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("cgi: script %s is not a regular file", abs)
		}
		if len(o.Interpreter) == 0 && fi.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("cgi: script %s is not executable (chmod +x it, or set interpreter)", abs)
		}
		h.script = abs
		return h, nil
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("cgi: script_dir: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("cgi: script_dir: %w", err)
	}
	h.root, h.dir = root, abs
	return h, nil
}

// Close releases the script directory.
func (h *Handler) Close() error {
	if h.root != nil {
		return h.root.Close()
	}
	return nil
}

// errNotFound and errForbidden are script lookup results.
var (
	errNotFound  = errors.New("no such script")
	errForbidden = errors.New("script is not executable")
)

// find maps a request path below the mount to a script in Dir: its path
// relative to Dir and the PATH_INFO left after it.
func (h *Handler) find(p string) (rel, rest string, err error) {
	clean := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	segs := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	for i, s := range segs {
		if s == "" {
			break
		}
		if s[0] == '.' {
			return "", "", errNotFound
		}
		rel := strings.Join(segs[:i+1], "/")
		fi, err := h.root.Stat(rel)
		if err != nil {
			return "", "", errNotFound
		}
		if fi.IsDir() {
			continue
		}
		if !fi.Mode().IsRegular() {
			return "", "", errNotFound
		}
		if len(h.opts.Interpreter) == 0 && fi.Mode()&0o111 == 0 {
			return "", "", errForbidden
		}
		return rel, clean[len(rel)+1:], nil
	}
	return "", "", errNotFound
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	script := h.script
	req := r
	if h.root != nil {
		rel, rest, err := h.find(r.URL.Path)
		switch {
		case errors.Is(err, errNotFound):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, "403 Forbidden", http.StatusForbidden)
			return
		}
		script = filepath.Join(h.dir, filepath.FromSlash(rel))
		req = r.WithContext(mount.WithScriptName(r.Context(), mount.ScriptName(r.Context())+"/"+rel))
		u := *r.URL
		u.Path, u.RawPath = rest, ""
		req.URL = &u
	}
	h.run(w, req, script)
}

// env returns the script's environment.
func (h *Handler) env(r *http.Request, script string) ([]string, error) {
	opts := cgivars.Options{
		NoForwarded: true,
		Extra:       []cgivars.Pair{{Name: "SCRIPT_FILENAME", Value: script}},
	}
	if h.root != nil {
		opts.Extra = append(opts.Extra, cgivars.Pair{Name: "DOCUMENT_ROOT", Value: h.dir})
	}
	if s := mount.ScriptName(r.Context()); s == "" {
		opts.ScriptName = "/" // the mount is the root: an empty SCRIPT_NAME
	}
	vars, err := cgivars.FromRequest(r, opts)
	if err != nil {
		return nil, err
	}
	env := make([]string, 0, len(vars)+len(h.opts.PassEnv)+1)
	for _, v := range vars {
		// RFC 3875 4.1.2: no CONTENT_LENGTH without a body.
		if v.Name == "CONTENT_LENGTH" && v.Value == "0" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			continue
		}
		env = append(env, v.Name+"="+v.Value)
	}
	havePath := false
	for _, name := range h.opts.PassEnv {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
			havePath = havePath || name == "PATH"
		}
	}
	if !havePath {
		env = append(env, "PATH="+DefaultPath)
	}
	return env, nil
}

// errTimeout is the cause of a request context ended by Options.Timeout.
var errTimeout = errors.New("cgi: script timed out")

func (h *Handler) run(w http.ResponseWriter, r *http.Request, script string) {
	log := h.logger.With("script", script)
	if r.ContentLength < 0 {
		// CGI needs CONTENT_LENGTH up front.
		http.Error(w, "411 Length Required", http.StatusLengthRequired)
		return
	}
	env, err := h.env(r, script)
	if err != nil {
		log.Warn("request refused", "err", err)
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	prog, args := script, []string{script}
	if len(h.opts.Interpreter) > 0 {
		prog = h.opts.Interpreter[0]
		args = append(append([]string{}, h.opts.Interpreter...), script)
		if lp, err := exec.LookPath(prog); err == nil {
			prog = lp
		}
	}

	var clen int64
	if r.Body != nil && r.Body != http.NoBody {
		clen = r.ContentLength
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		log.Error("cannot run script", "err", err)
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	defer stdoutR.Close()
	var stdinR, stdinW *os.File
	if clen > 0 {
		if stdinR, stdinW, err = os.Pipe(); err != nil {
			stdoutW.Close()
			log.Error("cannot run script", "err", err)
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
	}
	// The script's process group is killed when the client goes away or
	// the timeout passes; its stderr is logged line by line (Warn).
	ctx := r.Context()
	if h.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, h.opts.Timeout, errTimeout)
		defer cancel()
	}
	timedOut := func() bool { return context.Cause(ctx) == errTimeout }
	c := proc.Cmd{Path: prog, Args: args, Dir: filepath.Dir(script), Env: env, Stdout: stdoutW,
		StopSignal: syscall.SIGKILL, Grace: drainDelay, Logger: log}
	if stdinR != nil {
		c.Stdin = stdinR
	}
	p, err := proc.Start(ctx, c)
	stdoutW.Close()
	if stdinR != nil {
		stdinR.Close()
	}
	if err != nil {
		if stdinW != nil {
			stdinW.Close()
		}
		log.Error("cannot run script", "err", err)
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	log = log.With("pid", p.Pid())

	// The body copy, a goroutine ended before returning: it ends when the
	// body is read, the script closes stdin or dies, or the read deadline
	// set in finish passes.
	rc := http.NewResponseController(w)
	stdinDone := make(chan struct{})
	if stdinW != nil {
		// A script may write its headers before it reads stdin (an echo);
		// without this, HTTP/1 would discard the unread body at the first
		// flush. Servers that cannot do it fail here, harmlessly.
		rc.EnableFullDuplex()
		go func() {
			defer close(stdinDone)
			io.Copy(stdinW, io.LimitReader(r.Body, clen)) // a script may stop reading: not an error
			stdinW.Close()
		}()
	} else {
		close(stdinDone)
	}
	go func() {
		<-p.Done()
		stdoutR.SetReadDeadline(time.Now().Add(drainDelay))
	}()
	finish := func() {
		p.Kill()
		<-p.Done()
		if stdinW != nil {
			stdinW.Close() // unblocks a write to the dead script
			select {
			case <-stdinDone:
			case <-time.After(50 * time.Millisecond):
				// Blocked reading the client's body, which the script
				// will never read now: unblock it (unsupported is fine).
				rc.SetReadDeadline(time.Now())
				<-stdinDone
			}
		}
	}

	br := bufio.NewReaderSize(stdoutR, 4096)
	res, herr := gateway.ReadReply(br, r, h.maxHeader())
	if herr != nil {
		finish()
		switch {
		case r.Context().Err() != nil:
			log.Info("client went away", "err", r.Context().Err())
		case timedOut():
			log.Warn("script timed out before its headers", "timeout", h.opts.Timeout)
			http.Error(w, "504 Gateway Timeout", http.StatusGatewayTimeout)
		case proc.ExitStatus(p.Err()) != "":
			log.Warn("script failed before its headers", "status", proc.ExitStatus(p.Err()), "err", herr)
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		default:
			log.Warn("malformed script output", "err", herr)
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		}
		return
	}
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	rc.Flush()

	buf := make([]byte, 32<<10)
	var copyErr error
	for {
		n, err := res.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				copyErr = werr
				break
			}
			rc.Flush()
		}
		if err != nil {
			if err == io.EOF {
				// Past the body (a HEAD reply, bytes beyond its
				// Content-Length): the script still ends on its own.
				io.Copy(io.Discard, br)
			} else if !timedOut() {
				copyErr = err
			}
			break
		}
	}
	finish()
	switch {
	case timedOut():
		log.Warn("script timed out; response cut", "timeout", h.opts.Timeout)
		panic(http.ErrAbortHandler) // tell the client the body is incomplete
	case copyErr != nil && r.Context().Err() == nil:
		log.Warn("script output not delivered", "err", copyErr)
	case proc.ExitStatus(p.Err()) != "" && r.Context().Err() == nil:
		log.Warn("script failed after its headers", "status", proc.ExitStatus(p.Err()))
	}
}

func (h *Handler) maxHeader() int {
	if h.opts.MaxHeaderBytes > 0 {
		return h.opts.MaxHeaderBytes
	}
	return 64 << 10
}

var _ http.Handler = (*Handler)(nil)
