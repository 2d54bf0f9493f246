package proxy

// This file is the handler of the gateway protocols' proxies (SCGI, uwsgi,
// FastCGI, the process app's workers: Options.RequireLength without a
// Rewrite), which needs no
// httputil.ReverseProxy: their transports map the request to CGI
// variables themselves, and their replies come from gateway.ReadReply,
// final (200-999), without hop-by-hop headers or trailers. What
// ReverseProxy would do to such a request and reply is done here, without
// its copies of the request, its headers and its client trace.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/gopaste/gopaste/internal/gateway"
)

// direct reports whether a Proxy with options o serves with serveDirect
// rather than ReverseProxy: a gateway protocol with the default request
// (no Rewrite), flushed as ReverseProxy flushes by default or after every
// write (a positive FlushInterval needs ReverseProxy's timed flushes).
func (o Options) direct() bool {
	return o.RequireLength && o.Rewrite == nil && o.FlushInterval <= 0
}

// serveDirect sends r to a backend with ctx through attempts and copies
// the reply onto w. it, for http_proxy, forwards 1xx heads until the
// reply's head is read.
func (p *Proxy) serveDirect(ctx context.Context, w http.ResponseWriter, r *http.Request, it *interim) {
	var out http.Header
	if p.opts.HTTP {
		// Read from r's own context (the mount point): asked of ctx,
		// WithoutCancel's, a Value costs an allocation.
		out = httpHeader(r)
	} else {
		out = outHeader(r.Header)
	}
	// The proxy's own shallow copy, whose fields may be replaced.
	r = r.WithContext(ctx)
	r.Header = out
	if q := cleanQuery(r.URL.RawQuery); q != r.URL.RawQuery {
		u := *r.URL
		u.RawQuery = q
		r.URL = &u
	}
	if r.ContentLength == 0 {
		r.Body = nil
	}
	res, err := (*attempts)(p).RoundTrip(r)
	if it != nil {
		it.stop()
	}
	if err != nil {
		p.errorHandler(w, r, err)
		return
	}
	defer res.Body.Close()
	if res.StatusCode < 200 {
		// ReadReply never returns one; a gateway cannot switch protocols.
		p.errorHandler(w, r, fmt.Errorf("%w: status %d", gateway.ErrBadReply, res.StatusCode))
		return
	}
	gateway.RemoveHopByHop(res.Header)
	delete(res.Header, "Proxy-Authenticate")
	delete(res.Header, "Proxy-Authorization")
	h := w.Header()
	for k, v := range res.Header {
		// Added to what a filter in front set, as ReverseProxy does;
		// res.Header is this request's own, so v is not copied.
		if prior, ok := h[k]; ok {
			v = append(prior, v...)
		}
		h[k] = v
	}
	// An HTTP reply's trailers, as ReverseProxy passes them on: the
	// names the backend announced, announced to the client; after the
	// body, their values, and any others under http.TrailerPrefix.
	announced := len(res.Trailer)
	if announced > 0 {
		names := make([]string, 0, announced)
		for k := range res.Trailer {
			names = append(names, k)
		}
		h.Add("Trailer", strings.Join(names, ", "))
	}
	w.WriteHeader(res.StatusCode)
	if res.Body == http.NoBody {
		return
	}
	var flush func() error
	if res.ContentLength < 0 || p.opts.FlushInterval < 0 || isEventStream(res.Header) {
		// A stream: its head now, then each piece as it comes, as
		// ReverseProxy does.
		flush = http.NewResponseController(w).Flush
		flush()
	}
	if err := p.copyBody(w, res.Body, flush, r); err != nil {
		// The reply is cut short: end the client's connection so that it
		// does not take what it got for the whole reply. Under a test's
		// recorder there is no server to recover the panic.
		if r.Context().Value(http.ServerContextKey) != nil {
			panic(http.ErrAbortHandler)
		}
		return
	}
	if len(res.Trailer) == 0 {
		return
	}
	// Chunked to the client, whatever the body's length, for the
	// trailers to follow it.
	http.NewResponseController(w).Flush()
	if len(res.Trailer) == announced {
		for k, vs := range res.Trailer {
			h[k] = append(h[k], vs...)
		}
		return
	}
	for k, vs := range res.Trailer {
		k = http.TrailerPrefix + k
		h[k] = append(h[k], vs...)
	}
}

// copyBody copies body to w, calling flush (when not nil) after each
// write. It returns the first error; a read error other than a
// cancellation is logged, as ReverseProxy logs it. It writes through
// w.Write, not io.Copy: net/http's ReadFrom would send the head and a
// short body in separate writes.
func (p *Proxy) copyBody(w io.Writer, body io.Reader, flush func() error, r *http.Request) error {
	buf := bufPool.Get().(*[32 << 10]byte)
	defer bufPool.Put(buf)
	for {
		n, rerr := body.Read(buf[:])
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			if flush != nil {
				flush() // an error shows at the next write
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if rerr != context.Canceled {
				p.logger.Warn("reply cut short", "method", r.Method, "path", r.URL.Path, "err", rerr)
			}
			return rerr
		}
	}
}

// isEventStream reports whether h's Content-Type is text/event-stream,
// which ReverseProxy flushes as it comes even with a length.
func isEventStream(h http.Header) bool {
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(ct), "text/event-stream")
}

// dropped are the request headers ReverseProxy removes, besides those
// the Connection header names, that the gateway transports would
// otherwise send as CGI variables: the proxy credentials (hop-by-hop for
// ReverseProxy) and the client's forwarding headers (X-Forwarded-For
// excepted: the transport extends its chain).
var dropped = []string{"Proxy-Authorization", "Proxy-Authenticate", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Proto"}

// outHeader returns h without the headers ReverseProxy would drop from a
// request: those of dropped and those its Connection header names
// (X-Forwarded-For excepted, as ReverseProxy's Rewrite puts it back).
// The other hop-by-hop headers are left to the transport, which sends
// none (cgivars). h is copied only when something goes.
func outHeader(h http.Header) http.Header {
	if !dropsAny(h) {
		return h
	}
	out := h.Clone()
	gateway.RemoveHopByHop(out)
	for _, k := range dropped {
		delete(out, k)
	}
	if xff, ok := h["X-Forwarded-For"]; ok {
		out["X-Forwarded-For"] = xff
	}
	return out
}

func dropsAny(h http.Header) bool {
	for _, k := range dropped {
		if _, ok := h[k]; ok {
			return true
		}
	}
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			// keep-alive, the usual token, names a header the transport
			// drops anyway; skipping it saves canonicalising it.
			if name = textproto.TrimString(name); name == "" || strings.EqualFold(name, "keep-alive") {
				continue
			}
			if _, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
				return true
			}
		}
	}
	return false
}

// maxQueryParams is net/url's limit on query parameters, beyond which
// ReverseProxy re-encodes a query.
const maxQueryParams = 10000

// cleanQuery drops the query parameters Go's url.ParseQuery refuses (a
// ';' separator, a bad %-escape, more than maxQueryParams), as
// ReverseProxy does, so that the backend cannot read the query otherwise
// than a filter in front did (parameter smuggling). A clean query is
// returned as it is.
func cleanQuery(q string) string {
	reencode := func() string {
		v, _ := url.ParseQuery(q)
		return v.Encode()
	}
	if strings.Count(q, "&")+1 > maxQueryParams {
		return reencode()
	}
	for i := 0; i < len(q); {
		switch q[i] {
		case ';':
			return reencode()
		case '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return reencode()
			}
			i += 3
		default:
			i++
		}
	}
	return q
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
