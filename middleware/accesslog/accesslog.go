// Package accesslog writes one line per request in Apache's "common" or
// "combined" format, or as JSON, as Paste's TransLogger did.
//
// Lines go to an io.Writer through a [Writer]: a mutex-guarded buffer that
// is flushed after each line or, with a flush interval, at most that long
// after the first unflushed line. The access log never goes through slog:
// its format is fixed by the tools that read it. A [Writer] on a [File]
// reopens it on Reopen, which "gopaste serve" calls on SIGUSR1, for
// logrotate.
//
// The request line shows the path the client asked for, the mount prefix
// included (mount.OriginalPath), and the time is taken at the start of the
// request from an injectable clock.
package accesslog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gopaste/gopaste/middleware/requestid"
	"github.com/gopaste/gopaste/mount"
)

// Format names a line format.
type Format string

// The line formats.
const (
	// Common is Apache's common log format: %h %l %u %t "%r" %>s %b.
	Common Format = "common"
	// Combined adds "%{Referer}i" "%{User-agent}i" to Common.
	Combined Format = "combined"
	// JSON writes one object per line with the same facts plus the
	// duration and the request id.
	JSON Format = "json"
)

// Options configure the filter.
type Options struct {
	// Format of the lines; empty means Common.
	Format Format
	// Output receives the lines; nil means os.Stdout. An Output that is
	// not a *Writer is wrapped in one that flushes after every line.
	Output io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// User returns the authenticated user for %u; nil means the user
	// name of the request's basic credentials, if any.
	User func(r *http.Request) string
}

// New returns the filter.
func New(o Options) (func(http.Handler) http.Handler, error) {
	switch o.Format {
	case "":
		o.Format = Common
	case Common, Combined, JSON:
	default:
		return nil, fmt.Errorf("accesslog: unknown format %q (want common, combined or json)", o.Format)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.User == nil {
		o.User = basicUser
	}
	out, ok := o.Output.(*Writer)
	if !ok {
		w := o.Output
		if w == nil {
			w = os.Stdout
		}
		out = NewWriter(w, 0)
	}
	l := &logger{o: o, out: out}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := o.Now()
			rw := recPool.Get().(*recorder)
			rw.ResponseWriter = w
			defer func() {
				l.log(r, rw, start)
				*rw = recorder{}
				recPool.Put(rw)
			}()
			next.ServeHTTP(rw, r)
		})
	}, nil
}

func basicUser(r *http.Request) string {
	if len(r.Header["Authorization"]) == 0 {
		return ""
	}
	u, _, _ := r.BasicAuth()
	return u
}

// header returns the first value of a header given by its canonical
// name, without Header.Get's canonicalisation.
func header(r *http.Request, canonical string) string {
	if v := r.Header[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

type logger struct {
	o     Options
	out   *Writer
	stamp atomic.Pointer[stamp] // the last %t formatted, reused within its second
	jsec  atomic.Pointer[stamp] // the last JSON time's seconds and zone
}

// appendJSONTime appends t as RFC 3339 with milliseconds, reusing the
// formatted date, seconds and zone within one second.
func (l *logger) appendJSONTime(b []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	st := l.jsec.Load()
	if st == nil || st.sec != sec || st.loc != loc {
		st = &stamp{sec: sec, loc: loc, text: t.AppendFormat(nil, "2006-01-02T15:04:05Z07:00")}
		l.jsec.Store(st)
	}
	// text is "2006-01-02T15:04:05" then the zone; put ".mmm" between.
	b = append(b, st.text[:19]...)
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, st.text[19:]...)
}

// stamp is a formatted Apache time, "[02/Jan/2006:15:04:05 -0700]", for
// one second in one zone.
type stamp struct {
	sec  int64
	loc  *time.Location
	text []byte
}

func (l *logger) appendTime(b []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	if st := l.stamp.Load(); st != nil && st.sec == sec && st.loc == loc {
		return append(b, st.text...)
	}
	st := &stamp{sec: sec, loc: loc, text: t.AppendFormat(nil, "[02/Jan/2006:15:04:05 -0700]")}
	l.stamp.Store(st)
	return append(b, st.text...)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (l *logger) log(r *http.Request, rw *recorder, start time.Time) {
	bp := bufPool.Get().(*[]byte)
	b := l.appendLine((*bp)[:0], r, rw, start)
	l.out.Write(b) // the Writer keeps its first error; see Writer.Err
	*bp = b
	if cap(b) <= 64<<10 {
		bufPool.Put(bp)
	}
}

func (l *logger) appendLine(b []byte, r *http.Request, rw *recorder, start time.Time) []byte {
	status := rw.status
	if status == 0 {
		status = http.StatusOK
	}
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if l.o.Format == JSON {
		return l.appendJSON(b, r, rw, start, host, status)
	}
	b = appendField(b, host)
	b = append(b, " - "...)
	b = appendField(b, l.o.User(r))
	b = append(b, ' ')
	b = l.appendTime(b, start)
	b = append(b, " \""...)
	b = appendEscaped(b, r.Method)
	b = append(b, ' ')
	b = appendURI(b, r, appendEscaped)
	b = append(b, ' ')
	b = appendEscaped(b, r.Proto)
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	if rw.size == 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, rw.size, 10)
	}
	if l.o.Format == Combined {
		b = append(b, " \""...)
		b = appendField(b, header(r, "Referer"))
		b = append(b, "\" \""...)
		b = appendField(b, header(r, "User-Agent"))
		b = append(b, '"')
	}
	return append(b, '\n')
}

func (l *logger) appendJSON(b []byte, r *http.Request, rw *recorder, start time.Time, host string, status int) []byte {
	b = append(b, `{"time":"`...)
	b = l.appendJSONTime(b, start)
	b = append(b, `","remote_addr":`...)
	b = appendJSONString(b, host)
	b = append(b, `,"user":`...)
	b = appendJSONString(b, l.o.User(r))
	b = append(b, `,"method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"uri":"`...)
	b = appendURI(b, r, appendJSONBody)
	b = append(b, `","proto":`...)
	b = appendJSONString(b, r.Proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, rw.size, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(l.o.Now().Sub(start))/float64(time.Millisecond), 'f', 3, 64)
	b = append(b, `,"referer":`...)
	b = appendJSONString(b, header(r, "Referer"))
	b = append(b, `,"user_agent":`...)
	b = appendJSONString(b, header(r, "User-Agent"))
	if id := requestid.From(r.Context()); id != "" {
		b = append(b, `,"request_id":`...)
		b = appendJSONString(b, id)
	}
	return append(b, "}\n"...)
}

// appendURI appends the request's original path (the mount prefix
// included) and query, escaped as on the wire, through esc.
func appendURI(b []byte, r *http.Request, esc func([]byte, string) []byte) []byte {
	if r.URL == nil {
		return esc(b, r.RequestURI)
	}
	if sn := mount.ScriptName(r.Context()); sn != "" {
		b = esc(b, (&url.URL{Path: sn}).EscapedPath())
	}
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	b = esc(b, p)
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		b = append(b, '?')
		b = esc(b, r.URL.RawQuery)
	}
	return b
}

// appendField appends s, or "-" when it is empty, escaped.
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendEscaped(b, s)
}

const hexDigits = "0123456789abcdef"

// appendEscaped escapes as Apache does in its logs: '"' and '\' get a
// backslash, control and non-ASCII bytes become \xhh, so that a line can
// never be split or forged by what a client sends.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONBody(b, s)
	return append(b, '"')
}

// appendJSONBody appends s escaped for the inside of a JSON string;
// invalid UTF-8 becomes U+FFFD.
func appendJSONBody(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}

var recPool = sync.Pool{New: func() any { return new(recorder) }}

// recorder notes the status and the body size of the response.
type recorder struct {
	http.ResponseWriter
	status int
	size   int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.size += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's sendfile path for io.Copy.
func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, src)
	}
	w.size += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends buffered data to the client.
func (w *recorder) Flush() {
	w.FlushError() // no flusher or client gone: nothing to do
}

// FlushError is Flush with its error; ResponseController prefers it.
func (w *recorder) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack takes over the connection; the line shows status 101 or "-".
func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Writer is a buffered, mutex-guarded writer for log lines. Each Write
// should be one whole line. It is safe for concurrent use.
type Writer struct {
	mu       sync.Mutex
	out      io.Writer
	bw       *bufio.Writer
	interval time.Duration
	timer    *time.Timer // armed while unflushed data waits
	closed   bool
	err      error
}

// NewWriter returns a Writer buffering lines for out. With interval zero
// it flushes after every line; otherwise at most interval after the first
// line written since the last flush. Close flushes and, when out is an
// io.Closer other than os.Stdout or os.Stderr, closes out.
func NewWriter(out io.Writer, interval time.Duration) *Writer {
	return &Writer{out: out, bw: bufio.NewWriterSize(out, 64<<10), interval: interval}
}

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("accesslog: writer closed")

// Write buffers p.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	n, err := w.bw.Write(p)
	if err == nil && w.interval == 0 {
		err = w.bw.Flush()
	} else if err == nil && w.timer == nil {
		w.timer = time.AfterFunc(w.interval, w.timedFlush)
	}
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *Writer) timedFlush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = nil
	if !w.closed {
		w.flushLocked()
	}
}

func (w *Writer) flushLocked() error {
	err := w.bw.Flush()
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

// Flush writes buffered lines out now.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.flushLocked()
}

// Err returns the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Reopen flushes the buffered lines, then reopens the output when it is
// a [File]: the lines written before go to the old file, the ones after
// to the new.
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	err := w.flushLocked()
	if f, ok := w.out.(*File); ok {
		err = errors.Join(err, f.Reopen())
	}
	return err
}

// Close flushes and closes the output. It is safe to call twice.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	err := w.bw.Flush()
	if c, ok := w.out.(io.Closer); ok && w.out != os.Stdout && w.out != os.Stderr {
		err = errors.Join(err, c.Close())
	}
	return err
}
