package fastcgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/proxy"
)

// Transport sends requests to one FastCGI application (PHP-FPM, uWSGI,
// fcgiwrap...) as Responder requests. It keeps a pool of at most MaxConns
// connections (busy and idle together) and queues requests beyond that:
// a process-per-connection backend such as PHP-FPM must never have more
// connections than workers, or idle ones pin its workers while new ones
// wait in its backlog. Request and response bodies are streamed; STDERR
// output goes to Logger at Warn level, never into the response.
//
// A Transport is safe for concurrent use; its zero value sends to the
// request URL's host with the defaults below.
type Transport struct {
	// Addr is the backend: "host:port" or "unix:/path/to.sock". Empty
	// means the request URL's host.
	Addr string
	// MaxConns bounds the connections to the backend; zero means 2. Set
	// it to the backend's worker count (PHP-FPM's pm.max_children).
	MaxConns int
	// NoKeepConn closes each connection after its request instead of
	// pooling it (FCGI_KEEP_CONN unset).
	NoKeepConn bool
	// IdleTimeout closes pooled connections unused this long; zero means
	// 30 seconds.
	IdleTimeout time.Duration
	// DialTimeout bounds connecting; zero means 10 seconds.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the reply's headers once
	// the request is sent; zero means no limit.
	ResponseHeaderTimeout time.Duration
	// Vars tunes the CGI variables sent (SCRIPT_NAME override, extras).
	Vars cgivars.Options
	// Script, when its DocumentRoot is set, adds the variables of a
	// script-per-file backend such as PHP: SCRIPT_FILENAME and a
	// SCRIPT_NAME/PATH_INFO split.
	Script Script
	// MaxResponseHeaderBytes bounds the reply's header block; zero means
	// 1 MiB.
	MaxResponseHeaderBytes int
	// Dial, when set, opens connections instead of a net.Dialer.
	Dial   proxy.DialFunc
	Logger *slog.Logger // nil means slog.Default()

	keep  atomic.Int32  // keepUnknown, keepHonoured or keepIgnored
	pools gateway.Pools // by address
}

// Script says how a request path maps to a script file.
type Script struct {
	// DocumentRoot is the directory scripts are in; the mount point of
	// the app is its root.
	DocumentRoot string
	// Index is appended to paths ending in "/" (e.g. "index.php").
	Index string
	// SplitPath lists extensions (e.g. ".php") that end the script part
	// of a path: /a.php/b is script /a.php with PATH_INFO /b. The match is
	// ASCII case-insensitive and only at a segment end (CVE-2019-11043).
	SplitPath []string
}

// ErrIncompleteReply is returned (wrapped) when the backend closes the
// connection before ending the request.
var ErrIncompleteReply = errors.New("fastcgi: backend closed the connection before END_REQUEST")

// EndError reports a request the backend refused with a protocol status
// other than FCGI_REQUEST_COMPLETE.
type EndError struct {
	ProtocolStatus uint8
}

func (e *EndError) Error() string {
	switch e.ProtocolStatus {
	case StatusCantMultiplex:
		return "fastcgi: backend cannot multiplex connections"
	case StatusOverloaded:
		return "fastcgi: backend overloaded"
	case StatusUnknownRole:
		return "fastcgi: backend does not serve the responder role"
	}
	return fmt.Sprintf("fastcgi: backend ended the request with protocol status %d", e.ProtocolStatus)
}

// clientConn is a connection of a pool and the pool it goes back to.
type clientConn struct {
	*gateway.PoolConn
	pool *gateway.Pool
}

// What a Transport has learnt of its backend's FCGI_KEEP_CONN support.
const (
	keepUnknown int32 = iota
	keepHonoured
	keepIgnored // the backend closes after each request (uWSGI does)
)

// alive reports whether an idle connection is still open; a backend that
// ignores FCGI_KEEP_CONN closes it, which shows as a readable EOF. Until
// a reused connection has served a request, the check waits a moment for
// that EOF (the backend's close may trail its END_REQUEST); a backend
// found closing is then sent one connection per request. After that the
// socket is asked without waiting (gateway.PeekAlive): a read with a
// deadline already passed would fail in Go without asking it.
func (t *Transport) alive(c *gateway.PoolConn) bool {
	if t.keep.Load() != keepUnknown {
		return gateway.PeekAlive(c)
	}
	c.Conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := c.Reader.Peek(1)
	c.Conn.SetReadDeadline(time.Time{})
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	if err != nil {
		t.keep.CompareAndSwap(keepUnknown, keepIgnored)
	}
	return false
}

func (t *Transport) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.Default()
}

// CloseIdleConnections closes the pooled connections not in use.
func (t *Transport) CloseIdleConnections() { t.pools.CloseIdle() }

// Close closes the idle connections; busy ones close when their request
// ends. It implements io.Closer for the app that owns the Transport.
func (t *Transport) Close() error {
	t.CloseIdleConnections()
	return nil
}

// pool returns the connections to addr: at most MaxConns, busy and idle
// together, a request beyond them waiting in order for one to come back.
func (t *Transport) pool(addr string) *gateway.Pool {
	return t.pools.For(addr, func() *gateway.Pool {
		return &gateway.Pool{
			Dial:           func(ctx context.Context) (net.Conn, error) { return t.dial(ctx, addr) },
			MaxConns:       t.maxConns(),
			IdleTimeout:    t.IdleTimeout,
			ReadBufferSize: 16 << 10,
			Alive:          t.alive,
		}
	})
}

// get returns a connection to addr: a pooled one (reused reports true)
// or a new one. When MaxConns are open it waits, in order, for one to
// come back.
func (t *Transport) get(ctx context.Context, addr string) (c *clientConn, reused bool, err error) {
	p := t.pool(addr)
	pc, err := p.Get(ctx, false)
	if err != nil {
		return nil, false, err
	}
	return &clientConn{PoolConn: pc, pool: p}, pc.Reused, nil
}

func (t *Transport) maxConns() int {
	if t.MaxConns > 0 {
		return t.MaxConns
	}
	return 2
}

// put ends c's request: back to the pool when reusable and the backend
// keeps connections, else closed (its slot goes to the next request).
func (t *Transport) put(c *clientConn, reusable bool) {
	if reusable && c.Reused {
		t.keep.CompareAndSwap(keepUnknown, keepHonoured)
	}
	c.pool.Put(c.PoolConn, reusable && !t.NoKeepConn && t.keep.Load() != keepIgnored)
}

func (t *Transport) dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := proxy.DialAddr(ctx, addr, t.DialTimeout, t.Dial)
	if err != nil {
		return nil, fmt.Errorf("fastcgi: dial %s: %w", addr, err)
	}
	return c, nil
}

// RoundTrip implements http.RoundTripper. A request body of unknown length
// gives an error wrapping cgivars.ErrLengthRequired (the caller spools the
// body first); a path the Script rules refuse gives ErrBadPath.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(req)
	if err != nil && req.Body != nil {
		req.Body.Close()
	}
	return resp, err
}

func (t *Transport) roundTrip(req *http.Request) (*http.Response, error) {
	xb := exchangeBufs.Get().(*exchangeBuf)
	vars, err := cgivars.AppendFromRequest(xb.vars[:0], req, t.Vars)
	if err != nil {
		xb.free()
		return nil, fmt.Errorf("fastcgi: %w", err)
	}
	if t.Script.DocumentRoot != "" {
		if vars, err = t.Script.apply(vars); err != nil {
			xb.free()
			return nil, err
		}
	}
	hasBody := req.Body != nil && req.Body != http.NoBody && req.ContentLength > 0
	flags := uint8(FlagKeepConn)
	if t.NoKeepConn || t.keep.Load() == keepIgnored {
		flags = 0
	}
	const id = 1
	head := AppendBeginRequest(xb.head[:0], id, BeginRequest{Role: RoleResponder, Flags: flags})
	head = appendParams(head, id, vars)
	if !hasBody {
		head = AppendRecord(head, TypeStdin, id, nil)
	}
	xb.head = head
	clear(vars) // they hold the request's strings
	xb.vars = vars[:0]

	addr := t.Addr
	if addr == "" {
		addr = req.URL.Host
	}
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		c, reused, err := t.get(ctx, addr)
		if err != nil {
			xb.free()
			return nil, err
		}
		resp, err := t.exchange(ctx, c, req, xb, hasBody, addr)
		if err == nil {
			return resp, nil // xb is the body's until it ends
		}
		var se *staleError
		if errors.As(err, &se) && reused && !hasBody && attempt == 0 {
			// A pooled connection the backend had closed (PHP-FPM
			// recycling a child): nothing reached the application, so
			// one retry on a fresh connection is safe.
			continue
		}
		if se != nil {
			err = se.err
		}
		xb.free()
		return nil, err
	}
}

// appendParams appends the PARAMS stream of request id holding vars and
// the empty record that ends it. The pairs are encoded in place after
// the first record's header, which is written once their length is
// known; a stream over MaxContent bytes (64 KiB of headers) is cut into
// records afterwards.
func appendParams(dst []byte, id uint16, vars []cgivars.Pair) []byte {
	start := len(dst)
	dst = AppendPairs(append(dst, make([]byte, HeaderSize)...), vars)
	switch n := len(dst) - start - HeaderSize; {
	case n == 0:
		dst = dst[:start] // no pairs: only the end of the stream
	case n <= MaxContent:
		appendHeader(dst[:start], TypeParams, id, n) // over the room left for it
		dst = append(dst, make([]byte, pad(n))...)
	default:
		stream := append([]byte(nil), dst[start+HeaderSize:]...)
		dst = AppendStream(dst[:start], TypeParams, id, stream)
	}
	return AppendRecord(dst, TypeParams, id, nil)
}

// exchangeBuf is what a request needs besides its connection, kept for
// the next request (exchangeBufs) once its reply has been read: the
// buffer its records are written from, and the readers of its reply.
// Without it each request allocated some 10 KiB, most of the gateway's
// garbage.
type exchangeBuf struct {
	vars   []cgivars.Pair // the request's variables, while its records are built
	head   []byte         // the request's records up to its body
	rr     Reader         // the reply's records
	sr     stdoutReader   // their STDOUT stream
	stdout *bufio.Reader  // over sr: the reply gateway.ReadReply reads
}

var exchangeBufs = sync.Pool{New: func() any {
	xb := &exchangeBuf{head: make([]byte, 0, 1024)}
	xb.stdout = bufio.NewReaderSize(&xb.sr, 4096)
	return xb
}}

// start readies xb's readers for the reply on br.
func (xb *exchangeBuf) start(br *bufio.Reader, log *slog.Logger, addr string) {
	xb.rr.Reset(br)
	xb.sr = stdoutReader{br: br, id: 1, log: log, addr: addr, rr: &xb.rr}
	xb.stdout.Reset(&xb.sr)
}

// free gives xb back for another request; nothing may use it after.
func (xb *exchangeBuf) free() {
	xb.rr.Reset(nil)
	xb.sr = stdoutReader{}
	xb.stdout.Reset(&xb.sr)
	exchangeBufs.Put(xb)
}

// staleError marks a failure before any byte of reply arrived.
type staleError struct{ err error }

func (e *staleError) Error() string { return e.err.Error() }
func (e *staleError) Unwrap() error { return e.err }

// exchange sends the request (xb.head, then the body) on c and reads the
// reply's headers. On success the response body owns xb.
func (t *Transport) exchange(ctx context.Context, c *clientConn, req *http.Request, xb *exchangeBuf, hasBody bool, addr string) (*http.Response, error) {
	stop := noStop
	if ctx.Done() != nil {
		// The proxy's direct path sends a context that is never
		// cancelled (context.WithoutCancel) and needs no watch.
		stop = context.AfterFunc(ctx, func() { c.Conn.Close() })
	}
	fail := func(err error) (*http.Response, error) {
		stop()
		t.put(c, false)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, err
	}
	if _, err := c.Conn.Write(xb.head); err != nil {
		return fail(&staleError{fmt.Errorf("fastcgi: write to %s: %w", addr, err)})
	}
	var bodyDone chan error
	if hasBody {
		bodyDone = make(chan error, 1)
		go func() {
			err := writeStdin(c.Conn, req.Body, req.ContentLength)
			if errors.Is(err, gateway.ErrRequestBody) {
				// The backend would wait for the rest of the body, and
				// the reply with it.
				c.Conn.Close()
			}
			bodyDone <- err
		}()
	}
	if t.ResponseHeaderTimeout > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(t.ResponseHeaderTimeout))
	}
	xb.start(c.Reader, t.logger(), addr)
	sr, stdout := &xb.sr, xb.stdout
	resp, err := gateway.ReadReply(stdout, req, t.MaxResponseHeaderBytes)
	if err != nil && hasBody {
		// A body that could not be read closed the connection: say so
		// rather than what the read saw.
		select {
		case berr := <-bodyDone:
			if errors.Is(berr, gateway.ErrRequestBody) {
				return fail(fmt.Errorf("fastcgi: %w", berr))
			}
			bodyDone <- berr
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err != nil {
		if sr.n == 0 && !sr.ended && (errors.Is(err, ErrIncompleteReply) || errors.Is(err, gateway.ErrNoReply) || isReset(err)) {
			return fail(&staleError{fmt.Errorf("fastcgi: %s: %w", addr, ErrIncompleteReply)})
		}
		if sr.endErr != nil {
			return fail(sr.endErr)
		}
		return fail(fmt.Errorf("fastcgi: reply from %s: %w", addr, err))
	}
	c.Conn.SetReadDeadline(time.Time{})
	if resp.ContentLength < 0 && resp.TransferEncoding == nil && resp.Body != http.NoBody {
		// A short reply without Content-Length (PHP's) that has already
		// arrived whole gets one, so a proxy sends it in one write
		// instead of flushing it as a stream (gateway.ShortReply does
		// the same for SCGI and uwsgi).
		if n, ok := sr.bufferedLength(stdout); ok {
			resp.ContentLength = n
		}
	}
	resp.Body = &clientBody{t: t, c: c, xb: xb, sr: sr, body: resp.Body, r: stdout, stop: stop, bodyDone: bodyDone}
	return resp, nil
}

func noStop() bool { return true }

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}

// writeStdin sends n bytes of body as STDIN records, then the empty one.
func writeStdin(w io.Writer, body io.ReadCloser, n int64) error {
	defer body.Close()
	buf := make([]byte, HeaderSize+32<<10+8)
	for n > 0 {
		k, err := io.ReadFull(body, buf[HeaderSize:HeaderSize+min(int64(32<<10), n)])
		if k > 0 {
			p := pad(k)
			copy(buf, []byte{Version1, byte(TypeStdin), 0, 1, byte(k >> 8), byte(k), byte(p), 0})
			clear(buf[HeaderSize+k : HeaderSize+k+p])
			if _, werr := w.Write(buf[:HeaderSize+k+p]); werr != nil {
				return werr
			}
			n -= int64(k)
		}
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = fmt.Errorf("%w with %d bytes to go", io.ErrUnexpectedEOF, n)
		}
		if err != nil {
			return gateway.RequestBodyError(err)
		}
	}
	_, err := w.Write(AppendRecord(nil, TypeStdin, 1, nil))
	return err
}

// stdoutReader reads the STDOUT stream of a request from its records,
// logging STDERR, until END_REQUEST.
type stdoutReader struct {
	br     *bufio.Reader
	id     uint16
	log    *slog.Logger
	addr   string
	rr     *Reader
	n      int64 // STDOUT bytes seen
	ended  bool
	endErr error
	left   []byte
}

func (s *stdoutReader) Read(p []byte) (int, error) {
	for len(s.left) == 0 {
		if s.ended {
			if s.endErr != nil {
				return 0, s.endErr
			}
			return 0, io.EOF
		}
		if err := s.rr.Next(); err != nil {
			if err == io.EOF {
				err = ErrIncompleteReply
			}
			return 0, err
		}
		h := s.rr.Header
		if h.ID != s.id {
			continue // a management reply or a stray record
		}
		switch h.Type {
		case TypeStdout:
			s.left = s.rr.Content
			s.n += int64(len(s.left))
		case TypeStderr:
			if len(s.rr.Content) > 0 {
				s.log.Warn("backend stderr", "backend", s.addr, "stderr", strings.TrimRight(string(s.rr.Content), "\r\n"))
			}
		case TypeEndRequest:
			s.ended = true
			e, err := ParseEndRequest(s.rr.Content)
			if err != nil {
				s.endErr = err
			} else if e.ProtocolStatus != StatusRequestComplete {
				s.endErr = &EndError{ProtocolStatus: e.ProtocolStatus}
			}
		}
	}
	n := copy(p, s.left)
	s.left = s.left[n:]
	return n, nil
}

// bufferedLength reports whether the rest of the STDOUT stream, up to an
// END_REQUEST that completes the request, has already been read from the
// connection: in stdout (the reply body's buffer over s), the record s
// is on, and the complete records in s.br's buffer. n is then its length
// in bytes. It reads nothing more, so it never waits.
func (s *stdoutReader) bufferedLength(stdout *bufio.Reader) (n int64, ok bool) {
	n = int64(stdout.Buffered() + len(s.left))
	if s.ended {
		return n, s.endErr == nil
	}
	b, _ := s.br.Peek(s.br.Buffered())
	for len(b) >= HeaderSize {
		h := ParseHeader(b)
		size := HeaderSize + int(h.ContentLength) + int(h.PaddingLength)
		if h.Version != Version1 || len(b) < size {
			return 0, false
		}
		if h.ID == s.id {
			switch h.Type {
			case TypeStdout:
				n += int64(h.ContentLength)
			case TypeEndRequest:
				e, err := ParseEndRequest(b[HeaderSize : HeaderSize+int(h.ContentLength)])
				return n, err == nil && e.ProtocolStatus == StatusRequestComplete
			}
		}
		b = b[size:]
	}
	return 0, false
}

// clientBody is the body of a reply. When it is read to its end (or
// closed after a short drain) and the STDOUT stream to END_REQUEST, the
// connection goes back to the pool.
type clientBody struct {
	t        *Transport
	c        *clientConn
	xb       *exchangeBuf // sr, body and r are in it until release
	sr       *stdoutReader
	body     io.Reader     // the reply body, as gateway.ReadReply frames it
	r        *bufio.Reader // the STDOUT stream under it
	stop     func() bool
	bodyDone chan error
	once     sync.Once
	err      error
}

var errBodyClosed = errors.New("fastcgi: read on a closed response body")

func (b *clientBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.body.Read(p)
	if err != nil {
		if err == io.EOF && b.sr.endErr != nil {
			err = b.sr.endErr
		}
		b.err = err
		b.finish(err == io.EOF)
	}
	return n, err
}

// Close drains what is left of the reply (up to 256 KiB) so that the
// connection can be reused, or closes it.
func (b *clientBody) Close() error {
	if b.err == nil {
		b.err = errBodyClosed
		b.finish(true)
	}
	return nil
}

// finish releases the connection; when ok, after reading on to
// END_REQUEST what the body did not read (bytes past a Content-Length,
// the body of a HEAD reply, or what the reader left).
func (b *clientBody) finish(ok bool) {
	if ok && !b.sr.ended {
		b.c.Conn.SetReadDeadline(time.Now().Add(time.Second))
		io.CopyN(io.Discard, b.r, 256<<10)
	}
	b.release(ok && b.sr.ended && b.sr.endErr == nil && b.r.Buffered() == 0)
}

func (b *clientBody) release(reusable bool) {
	b.once.Do(func() {
		b.stop()
		if b.bodyDone != nil {
			if reusable {
				// The backend answered in full; the writer is done or
				// stuck on a body the backend never read.
				select {
				case err := <-b.bodyDone:
					reusable = err == nil
				default:
					reusable = false
				}
			}
		}
		if reusable {
			b.c.Conn.SetReadDeadline(time.Time{})
		}
		b.t.put(b.c, reusable)
		// b.err is set: Read and Close touch nothing of xb again.
		b.sr, b.body, b.r = nil, nil, nil
		b.xb.free()
		b.xb = nil
	})
}

// ErrBadPath is returned for a request path the Script rules refuse; it
// comes wrapped with cgivars.ErrInvalidByte (a client error, 400).
var ErrBadPath = errors.New("fastcgi: refused request path")

// apply sets SCRIPT_FILENAME, SCRIPT_NAME, PATH_INFO, PATH_TRANSLATED and
// DOCUMENT_ROOT in vars from the path below the mount.
func (s Script) apply(vars []cgivars.Pair) ([]cgivars.Pair, error) {
	mountPrefix, _ := cgivars.Get(vars, "SCRIPT_NAME")
	p, _ := cgivars.Get(vars, "PATH_INFO")
	script, info, err := s.Split(p)
	if err != nil {
		return nil, err
	}
	root := s.DocumentRoot
	set := func(name, value string) {
		for i := range vars {
			if vars[i].Name == name {
				vars[i].Value = value
				return
			}
		}
		vars = append(vars, cgivars.Pair{Name: name, Value: value})
	}
	set("SCRIPT_FILENAME", underRoot(root, script))
	set("SCRIPT_NAME", mountPrefix+script)
	set("PATH_INFO", info)
	if info != "" {
		set("PATH_TRANSLATED", filepath.Join(root, filepath.FromSlash(info)))
	}
	set("DOCUMENT_ROOT", root)
	return vars, nil
}

// underRoot returns filepath.Join(root, p) for p a clean rooted slash
// path (Split's script), without Join's copy and clean when root is clean
// already: it runs for every request.
func underRoot(root, p string) string {
	if filepath.Separator == '/' && p != "/" && root != "/" && root == filepath.Clean(root) {
		return root + p
	}
	return filepath.Join(root, filepath.FromSlash(p))
}

// Split cuts a request path (below the mount) into the script path and
// PATH_INFO. The script path is cleaned (no "..") and gets Index when it
// ends in "/". With SplitPath it ends at the first segment that ends with
// one of the extensions, compared ASCII case-insensitively byte by byte,
// so that no Unicode case folding can shift the cut (CVE-2019-11043's
// family of bugs); a path holding NUL, CR or LF is refused.
func (s Script) Split(p string) (script, info string, err error) {
	if strings.ContainsAny(p, "\x00\r\n") {
		return "", "", fmt.Errorf("%w: %w", ErrBadPath, cgivars.ErrInvalidByte)
	}
	if p == "" {
		p = "/"
	}
	script = p
	if len(s.SplitPath) > 0 {
		if i := splitIndex(p, s.SplitPath); i >= 0 {
			script, info = p[:i], p[i:]
		}
	}
	if strings.HasSuffix(script, "/") && s.Index != "" {
		script += s.Index
	}
	if !strings.HasPrefix(script, "/") {
		script = "/" + script
	}
	script = path.Clean(script) // no copy when clean already
	return script, info, nil
}

// splitIndex returns the end of the first path segment that ends with one
// of exts (the index of the "/" after it, or len(p)), or -1.
func splitIndex(p string, exts []string) int {
	for i := 0; i < len(p); i++ {
		if i+1 < len(p) && p[i+1] != '/' {
			continue
		}
		end := i + 1
		for _, ext := range exts {
			if ext == "" || len(ext) > end {
				continue
			}
			if asciiEqualFold(p[end-len(ext):end], ext) {
				return end
			}
		}
	}
	return -1
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

var _ http.RoundTripper = (*Transport)(nil)
