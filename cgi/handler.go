package cgi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/mount"
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

// proc is one running script and its process group.
type proc struct {
	cmd *exec.Cmd
	pid int

	mu       sync.Mutex
	reaped   bool // the leader is reaped: its pid may be reused, never signal it
	timedOut bool
	done     chan struct{} // closed once the leader is reaped
	err      error         // cmd.Wait's, valid after done
}

// kill sends SIGKILL to the whole group unless the leader is reaped.
func (p *proc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reaped {
		syscall.Kill(-p.pid, syscall.SIGKILL) // ESRCH: already gone
	}
}

func (p *proc) timeout() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reaped {
		p.timedOut = true
		syscall.Kill(-p.pid, syscall.SIGKILL)
	}
}

// wait waits for the leader, kills what is left of its group (children
// in the background would otherwise hold stdout open and outlive the
// request), then reaps the leader.
func (p *proc) wait() {
	if waitNoReap(p.pid) {
		p.mu.Lock()
		syscall.Kill(-p.pid, syscall.SIGKILL)
		p.reaped = true
		p.mu.Unlock()
		p.err = p.cmd.Wait()
	} else {
		p.err = p.cmd.Wait()
		p.mu.Lock()
		syscall.Kill(-p.pid, syscall.SIGKILL) // best effort: the pid is free again
		p.reaped = true
		p.mu.Unlock()
	}
	close(p.done)
}

func (p *proc) isTimedOut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.timedOut
}

// exitStatus describes how the leader ended: "" for exit 0.
func (p *proc) exitStatus() string {
	if p.err == nil {
		return ""
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return "exit status " + strconv.Itoa(ee.ExitCode())
	}
	return p.err.Error()
}

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
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutW.Close()
		log.Error("cannot run script", "err", err)
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	defer stderrR.Close()
	var stdinR, stdinW *os.File
	if clen > 0 {
		if stdinR, stdinW, err = os.Pipe(); err != nil {
			stdoutW.Close()
			stderrW.Close()
			log.Error("cannot run script", "err", err)
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
	}
	cmd := &exec.Cmd{
		Path:        prog,
		Args:        args,
		Dir:         filepath.Dir(script),
		Env:         env,
		Stdout:      stdoutW,
		Stderr:      stderrW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if stdinR != nil {
		cmd.Stdin = stdinR
	}
	err = cmd.Start()
	stdoutW.Close()
	stderrW.Close()
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
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	log = log.With("pid", p.pid)
	go p.wait()
	if h.opts.Timeout > 0 {
		t := time.AfterFunc(h.opts.Timeout, p.timeout)
		defer t.Stop()
	}
	stopOnGone := context.AfterFunc(r.Context(), p.kill)
	defer stopOnGone()

	// Goroutines, each ended below before returning: the body copy (ends
	// when the body is read, the script closes stdin or dies, or the read
	// deadline set below passes) and the stderr logger (ends at EOF, once
	// the group is dead, or at the drain deadline).
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
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		logStderr(log, stderrR)
	}()
	go func() {
		<-p.done
		deadline := time.Now().Add(drainDelay)
		stdoutR.SetReadDeadline(deadline)
		stderrR.SetReadDeadline(deadline)
	}()
	finish := func() {
		p.kill()
		<-p.done
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
		<-stderrDone
	}

	br := bufio.NewReaderSize(stdoutR, 4096)
	code, hdr, herr := readHeaders(br, h.maxHeader())
	if herr != nil {
		finish()
		switch {
		case r.Context().Err() != nil:
			log.Info("client went away", "err", r.Context().Err())
		case p.isTimedOut():
			log.Warn("script timed out before its headers", "timeout", h.opts.Timeout)
			http.Error(w, "504 Gateway Timeout", http.StatusGatewayTimeout)
		case p.exitStatus() != "":
			log.Warn("script failed before its headers", "status", p.exitStatus(), "err", herr)
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		default:
			log.Warn("malformed script output", "err", herr)
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
		}
		return
	}
	for k, vs := range hdr {
		w.Header()[k] = vs
	}
	w.WriteHeader(code)
	rc.Flush()

	buf := make([]byte, 32<<10)
	var copyErr error
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				copyErr = werr
				break
			}
			rc.Flush()
		}
		if err != nil {
			if err != io.EOF && !p.isTimedOut() {
				copyErr = err
			}
			break
		}
	}
	finish()
	switch {
	case p.isTimedOut():
		log.Warn("script timed out; response cut", "timeout", h.opts.Timeout)
		panic(http.ErrAbortHandler) // tell the client the body is incomplete
	case copyErr != nil && r.Context().Err() == nil:
		log.Warn("script output not delivered", "err", copyErr)
	case p.exitStatus() != "" && r.Context().Err() == nil:
		log.Warn("script failed after its headers", "status", p.exitStatus())
	}
}

func (h *Handler) maxHeader() int {
	if h.opts.MaxHeaderBytes > 0 {
		return h.opts.MaxHeaderBytes
	}
	return 64 << 10
}

// logStderr logs each line the script writes to stderr (long lines in
// pieces) until EOF or an error.
func logStderr(log *slog.Logger, r io.Reader) {
	br := bufio.NewReaderSize(r, 4096)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if s := strings.TrimRight(string(line), "\r\n"); s != "" {
				log.Warn("script stderr", "line", s)
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// errHeader reports a malformed CGI header block.
var errHeader = errors.New("cgi: malformed script headers")

// hopHeaders are not passed from a script to the client: the server owns
// the connection and the framing.
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Transfer-Encoding": true,
	"Trailer": true, "Upgrade": true, "Proxy-Connection": true, "Te": true,
}

// readHeaders reads a CGI header block (RFC 3875 6.2) from br: lines ending
// in LF or CRLF up to an empty line, at most max bytes. It returns the
// status (Status:, else 302 with a Location, else 200) and the headers.
func readHeaders(br *bufio.Reader, max int) (int, http.Header, error) {
	hdr := http.Header{}
	code, lines, budget := 0, 0, max
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			if err == io.EOF {
				if lines == 0 {
					return 0, nil, fmt.Errorf("%w: no output", errHeader)
				}
				return 0, nil, fmt.Errorf("%w: output ended inside the headers", errHeader)
			}
			return 0, nil, err
		}
		if len(line) == 0 {
			if lines == 0 {
				return 0, nil, fmt.Errorf("%w: empty header block", errHeader)
			}
			break
		}
		lines++
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok || !validToken(string(name)) {
			return 0, nil, fmt.Errorf("%w: line %q", errHeader, truncate(line))
		}
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		v := textproto.TrimString(string(val))
		if strings.ContainsAny(v, "\x00\r") {
			return 0, nil, fmt.Errorf("%w: bad byte in %s", errHeader, key)
		}
		switch {
		case key == "Status":
			c, err := parseStatus(v)
			if err != nil {
				return 0, nil, err
			}
			code = c
		case hopHeaders[key]:
		default:
			hdr.Add(key, v)
		}
	}
	if code == 0 {
		code = http.StatusOK
		if hdr.Get("Location") != "" {
			code = http.StatusFound
		}
	}
	return code, hdr, nil
}

// readLine returns one line without its LF or CRLF, charging its length
// to budget.
func readLine(br *bufio.Reader, budget *int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		*budget -= len(chunk)
		if *budget < 0 {
			return nil, fmt.Errorf("%w: header block too large", errHeader)
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return nil, io.EOF
			}
			return nil, err
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		return line, nil
	}
}

// parseStatus reads a Status value: "404 Not Found" or "404".
func parseStatus(v string) (int, error) {
	num, _, _ := strings.Cut(v, " ")
	c, err := strconv.Atoi(num)
	if err != nil || len(num) != 3 || c < 200 || c > 999 {
		return 0, fmt.Errorf("%w: status %q", errHeader, v)
	}
	return c, nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// validToken reports whether s is an RFC 9110 token (a header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

var _ http.Handler = (*Handler)(nil)
