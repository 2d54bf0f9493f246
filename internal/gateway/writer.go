package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Head is how a reply's status is written.
type Head uint8

const (
	// CGIHead writes "Status: 200 OK" and the headers (RFC 3875 §6.3):
	// SCGI, FastCGI and CGI.
	CGIHead Head = iota
	// HTTPHead writes "HTTP/1.1 200 OK", the headers and a Date: uwsgi.
	HTTPHead
)

// Sink is where a Writer puts the reply's bytes: a bufio.Writer on the
// connection, or a writer of FastCGI STDOUT records. Write may hold bytes
// back; Flush sends them to the web server.
type Sink interface {
	io.Writer
	io.StringWriter
	Flush() error
}

// Deadlines is what http.ResponseController's SetReadDeadline and
// SetWriteDeadline reach: a net.Conn, or a per-request stand-in.
type Deadlines interface {
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// BufferLimit is how much of the body a Writer holds back before it sends
// the head: a reply that ends within it gets a Content-Length, and one
// without a Content-Type gets one sniffed from it (as net/http does).
const BufferLimit = 4 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, BufferLimit); return &b }}

// Writer is the http.ResponseWriter of the gateway servers. It is not safe
// for concurrent use (nor is net/http's).
//
// Its rules, the same on every protocol:
//   - 1xx codes given to WriteHeader are dropped (see WriteHeader);
//   - hop-by-hop headers ([IsHopByHop]), trailers, and a "Status" header
//     are not sent;
//   - a HEAD reply, 204 and 304 carry no body: what the handler writes is
//     counted for a HEAD's Content-Length and dropped;
//   - Flush sends the head and the body so far (http.Flusher,
//     FlushError for http.ResponseController); so does a body longer than
//     [BufferLimit];
//   - SetReadDeadline and SetWriteDeadline reach [Writer.Conn].
type Writer struct {
	// Conn takes the deadlines of http.ResponseController; nil answers
	// them with http.ErrNotSupported.
	Conn Deadlines
	// OnError, if set, is called once when writing to the sink fails (the
	// web server is gone): servers cancel the request's context in it.
	OnError func()
	// KeepAlive, if set, is asked as the head is sent whether the
	// connection may carry another request after this reply (gopaste's
	// uwsgi keep-alive; HTTPHead only). If it says yes, the head carries
	// "Connection: keep-alive" and the body is framed: by its
	// Content-Length (the handler's, or the one a short reply gets), else
	// chunked. [Writer.Kept] then says whether the reply kept to it.
	KeepAlive func() bool

	req         *http.Request
	head        Head
	sink        Sink
	header      http.Header
	status      int
	wroteHeader bool // WriteHeader called with a final status
	sentHeader  bool // the head is in the sink
	noBody      bool
	buf         *[]byte // held-back body, from bufPool
	written     int64   // body bytes the handler wrote
	err         error

	keep     bool  // "Connection: keep-alive" sent
	chunked  bool  // the body is sent in chunks
	declared int64 // the Content-Length sent with keep-alive; -1 for none
	overrun  bool  // the handler wrote past declared
}

// NewWriter returns a Writer answering r (nil for a reply to a request
// that could not be read) with a head of the given kind, into s.
func NewWriter(r *http.Request, head Head, s Sink) *Writer {
	return &Writer{req: r, head: head, sink: s, header: make(http.Header)}
}

// Header returns the header map that WriteHeader (or the first Write)
// sends.
func (w *Writer) Header() http.Header { return w.header }

// WriteHeader sets the status. A code outside 100–999 panics, as with
// net/http. Interim codes (1xx, 101 included) are dropped on every
// protocol: a web server takes the first status a gateway sends as the
// final one (nginx's scgi, uwsgi and fastcgi modules and Apache's
// mod_proxy_* all do), and it answers "Expect: 100-continue" itself.
// Headers set for a 103 stay in the map for the final reply, as in net/http.
func (w *Writer) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("gateway: invalid WriteHeader code %v", code))
	}
	if w.wroteHeader || code < 200 {
		return
	}
	w.wroteHeader, w.status = true, code
	w.noBody = code == http.StatusNoContent || code == http.StatusNotModified ||
		w.req != nil && w.req.Method == http.MethodHead
}

// Write sends (or holds back) body bytes, writing the head first.
func (w *Writer) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	w.written += int64(len(p))
	if !w.sentHeader {
		if w.buf == nil {
			w.buf = bufPool.Get().(*[]byte)
		}
		if len(*w.buf)+len(p) <= BufferLimit {
			*w.buf = append(*w.buf, p...)
			return len(p), nil
		}
		if w.sendHeader(false, p); w.err != nil {
			return 0, w.err
		}
	}
	if w.noBody {
		return len(p), nil
	}
	if !w.fits(len(p)) {
		return 0, http.ErrContentLength
	}
	w.chunkHead(len(p))
	n, err := w.sink.Write(p)
	w.chunkEnd(len(p))
	if err != nil {
		w.fail(err)
	}
	return n, err
}

// fits reports whether n more body bytes fit the Content-Length sent
// with keep-alive: more would run into the next reply.
func (w *Writer) fits(n int) bool {
	if w.keep && w.declared >= 0 && w.written > w.declared {
		w.written -= int64(n)
		w.overrun = true
		return false
	}
	return true
}

// chunkHead and chunkEnd frame n bytes of body as a chunk when the
// body is chunked.
func (w *Writer) chunkHead(n int) {
	if w.chunked && n > 0 {
		w.sink.WriteString(strconv.FormatInt(int64(n), 16))
		w.sink.WriteString("\r\n")
	}
}

func (w *Writer) chunkEnd(n int) {
	if w.chunked && n > 0 {
		w.sink.WriteString("\r\n")
	}
}

// WriteString is Write of a string.
func (w *Writer) WriteString(s string) (int, error) {
	if !w.sentHeader || w.noBody {
		return w.Write([]byte(s))
	}
	if w.err != nil {
		return 0, w.err
	}
	w.written += int64(len(s))
	if !w.fits(len(s)) {
		return 0, http.ErrContentLength
	}
	w.chunkHead(len(s))
	n, err := w.sink.WriteString(s)
	w.chunkEnd(len(s))
	if err != nil {
		w.fail(err)
	}
	return n, err
}

func (w *Writer) fail(err error) {
	if w.err != nil {
		return
	}
	w.err = err
	if w.OnError != nil {
		w.OnError()
	}
}

// sendHeader puts the head and the held-back body into the sink. final
// says the handler is done, so the held-back body is all of it; next is
// the body to come, sniffed when nothing was held back.
func (w *Writer) sendHeader(final bool, next []byte) {
	if w.sentHeader {
		return
	}
	w.sentHeader = true
	var body []byte
	if w.buf != nil {
		body = *w.buf
	}
	h := w.header
	allowed := w.status != http.StatusNoContent && w.status != http.StatusNotModified
	if allowed {
		_, haveType := h["Content-Type"]
		sniff := body
		if len(sniff) == 0 {
			sniff = next
		}
		if !haveType && len(sniff) > 0 && h.Get("Content-Encoding") == "" {
			h.Set("Content-Type", http.DetectContentType(sniff))
		}
		isHead := w.req != nil && w.req.Method == http.MethodHead
		if final && h.Get("Content-Length") == "" && (!isHead || w.written > 0) {
			h.Set("Content-Length", strconv.FormatInt(w.written, 10))
		}
	}
	w.declared = -1
	if w.KeepAlive != nil && w.head == HTTPHead && w.KeepAlive() {
		w.keep = w.frame()
	}
	if w.keep && w.declared >= 0 && !w.noBody && int64(len(body)) > w.declared {
		body, w.overrun = body[:w.declared], true
	}
	s := w.sink
	text := http.StatusText(w.status)
	if text == "" {
		text = "status code " + strconv.Itoa(w.status)
	}
	if w.head == HTTPHead {
		if _, ok := h["Date"]; !ok {
			h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		}
		s.WriteString("HTTP/1.1 ")
	} else {
		s.WriteString("Status: ")
	}
	s.WriteString(strconv.Itoa(w.status))
	s.WriteString(" ")
	s.WriteString(text)
	s.WriteString("\r\n")
	var keys [32]string
	names := keys[:0]
	for k := range h {
		if !hopByHop[k] && k != "Status" && !strings.HasPrefix(k, http.TrailerPrefix) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range h[k] {
			s.WriteString(k)
			s.WriteString(": ")
			if strings.ContainsAny(v, "\r\n") {
				// As net/http: a value cannot start a header line.
				v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			}
			s.WriteString(v)
			s.WriteString("\r\n")
		}
	}
	if w.keep {
		s.WriteString("Connection: keep-alive\r\n")
	}
	if w.chunked {
		s.WriteString("Transfer-Encoding: chunked\r\n")
	}
	_, err := s.WriteString("\r\n")
	if len(body) > 0 && !w.noBody && err == nil {
		w.chunkHead(len(body))
		_, err = s.Write(body)
		w.chunkEnd(len(body))
	}
	if err != nil {
		w.fail(err)
	}
	w.release()
}

// frame decides where the body of a kept connection's reply ends: no
// body, its Content-Length, else the last chunk. It reports false for a
// Content-Length it cannot read: the connection then closes after the
// reply, as without keep-alive.
func (w *Writer) frame() bool {
	if w.noBody {
		return true
	}
	cl := w.header["Content-Length"]
	if len(cl) == 0 {
		w.chunked = true
		return true
	}
	n, err := strconv.ParseInt(textproto.TrimString(cl[0]), 10, 64)
	if err != nil || n < 0 || len(cl) > 1 {
		return false
	}
	w.declared = n
	return true
}

// Kept reports whether the reply offered keep-alive (see KeepAlive) and
// kept to its framing, without a write error: once it is finished and
// flushed, the connection can read the next request.
func (w *Writer) Kept() bool {
	return w.keep && w.err == nil && !w.overrun &&
		(w.noBody || w.declared < 0 || w.written == w.declared)
}

func (w *Writer) release() {
	if w.buf != nil {
		*w.buf = (*w.buf)[:0]
		bufPool.Put(w.buf)
		w.buf = nil
	}
}

// Flush sends the head and what was written so far to the web server.
func (w *Writer) Flush() { w.FlushError() }

// FlushError is Flush returning the write error (http.ResponseController
// uses it).
func (w *Writer) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.sendHeader(false, nil)
	if w.err != nil {
		return w.err
	}
	if err := w.sink.Flush(); err != nil {
		w.fail(err)
		return err
	}
	return nil
}

// SetReadDeadline bounds reading the request body (http.ResponseController).
func (w *Writer) SetReadDeadline(t time.Time) error {
	if w.Conn == nil {
		return http.ErrNotSupported
	}
	return w.Conn.SetReadDeadline(t)
}

// SetWriteDeadline bounds writing the reply (http.ResponseController).
func (w *Writer) SetWriteDeadline(t time.Time) error {
	if w.Conn == nil {
		return http.ErrNotSupported
	}
	return w.Conn.SetWriteDeadline(t)
}

// Sent reports whether the head has gone to the sink: after that the
// status cannot change, and a failure can only abort the reply.
func (w *Writer) Sent() bool { return w.sentHeader }

// Status returns the status sent or to be sent; 0 before WriteHeader or
// Write.
func (w *Writer) Status() int { return w.status }

// Finish completes the reply into the sink, without flushing it: the
// server flushes (or, for FastCGI, ends the request in the same write).
// It returns the first write error.
func (w *Writer) Finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.sendHeader(true, nil)
	if w.chunked && w.err == nil {
		w.chunked = false // the last chunk, once
		if _, err := w.sink.WriteString("0\r\n\r\n"); err != nil {
			w.fail(err)
		}
	}
	return w.err
}

// reset forgets a reply that has not been sent, for Run's 500.
func (w *Writer) reset() {
	w.header = make(http.Header)
	w.status, w.wroteHeader, w.noBody, w.written = 0, false, false, 0
	if w.buf != nil {
		*w.buf = (*w.buf)[:0]
	}
}

// Error replaces a reply not sent yet by a plain-text one with the status
// code, as http.Error does, and finishes it. It reports false when the
// head was sent already.
func (w *Writer) Error(code int) bool {
	if w.sentHeader {
		return false
	}
	keep := w.header.Get(RequestIDHeader)
	w.reset()
	if keep != "" {
		w.header.Set(RequestIDHeader, keep)
	}
	w.header.Set("Content-Type", "text/plain; charset=utf-8")
	w.header.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	text := http.StatusText(code)
	if text == "" {
		text = "error"
	}
	io.WriteString(w, strconv.Itoa(code)+" "+text+"\n")
	w.Finish()
	return true
}

// WriteStatus writes a whole plain-text reply with code to s and flushes
// it: the answer to a request that could not be read (400, 431).
func WriteStatus(s Sink, head Head, code int) error {
	w := NewWriter(nil, head, s)
	w.Error(code)
	return errors.Join(w.err, s.Flush())
}

var (
	_ http.ResponseWriter = (*Writer)(nil)
	_ http.Flusher        = (*Writer)(nil)
	_ io.StringWriter     = (*Writer)(nil)
)
