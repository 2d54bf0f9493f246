package compress

// This file makes compressed responses answer conditional and HEAD
// requests as their identity does: the part gzhttp leaves to its caller.

import (
	"bufio"
	"net"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// suffixes are the ETag suffixes gzhttp adds (SuffixETag("-gzip")).
var suffixes = [...]string{"-gzip", "-zstd"}

// variants runs inside gzhttp's wrapper, where w is gzhttp's writer; with
// head, r is a HEAD request that gzhttp was shown as a GET. For a
// response that may be compressed it lets the handler see, in
// If-None-Match, the identity's tags of the compressed variants' tags the
// client holds, and makes a HEAD answer as the GET would.
func variants(next http.Handler, head bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if head {
			r2 := new(http.Request)
			*r2 = *r
			r2.Method = http.MethodHead
			r = r2
		}
		var gz *gzhttp.GzipResponseWriter
		switch x := w.(type) {
		case *gzhttp.GzipResponseWriter:
			gz = x
		case gzhttp.GzipResponseWriterWithCloseNotify:
			gz = x.GzipResponseWriter
		}
		tags := variantTags(r.Header["If-None-Match"])
		if gz == nil || !head && len(tags) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		vw := &variantWriter{ResponseWriter: w, tags: tags}
		if len(tags) > 0 {
			r2 := new(http.Request)
			*r2 = *r
			r2.Header = r.Header.Clone()
			inm := strings.Join(r.Header["If-None-Match"], ", ")
			for _, t := range tags {
				inm += ", " + t.identity
			}
			r2.Header.Set("If-None-Match", inm)
			r = r2
		}
		next.ServeHTTP(vw, r)
		if head && !vw.wrote && (vw.code == 0 || vw.code == http.StatusOK) {
			// No body to decide by: gzhttp decides by the declared
			// Content-Length and Content-Type, as for the GET.
			gz.Write(nil) // a write error shows in the caller's next write, if any
		}
	})
}

// variantTag is an entity tag of a compressed variant and the tag of its
// identity.
type variantTag struct {
	variant, identity string // W/"abc-gzip", W/"abc"
}

// variantTags returns the tags with a gzhttp suffix among the entity
// tags of If-None-Match field values (RFC 9110 §8.8.3: ["W/"] quoted).
func variantTags(values []string) []variantTag {
	var tags []variantTag
	for _, v := range values {
		for {
			v = strings.TrimLeft(v, " \t,")
			start := v
			weak := strings.HasPrefix(v, "W/")
			if weak {
				v = v[2:]
			}
			if !strings.HasPrefix(v, `"`) {
				break // "*", the end, or not a tag: nothing more to read
			}
			end := strings.IndexByte(v[1:], '"')
			if end < 0 {
				break
			}
			opaque := v[1 : 1+end]
			v = v[end+2:]
			for _, s := range suffixes {
				if strings.HasSuffix(opaque, s) {
					tag := start[:len(start)-len(v)]
					tags = append(tags, variantTag{variant: tag, identity: tag[:len(tag)-len(s)-1] + `"`})
				}
			}
		}
	}
	return tags
}

// variantWriter gives a 304 answering a variant's tag that tag as its
// ETag, and notes the status and whether a body was written.
type variantWriter struct {
	http.ResponseWriter
	tags  []variantTag
	code  int
	wrote bool
}

func (w *variantWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
		if code == http.StatusNotModified {
			h := w.Header()
			etag := strings.TrimPrefix(h.Get("Etag"), "W/")
			for _, t := range w.tags {
				if etag != "" && etag == strings.TrimPrefix(t.identity, "W/") {
					h.Set("Etag", t.variant)
					break
				}
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *variantWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.wrote = w.wrote || len(b) > 0
	return w.ResponseWriter.Write(b)
}

func (w *variantWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// FlushError and Flush pass a flush on (an http.Flusher, for handlers that
// assert one).
func (w *variantWriter) FlushError() error {
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *variantWriter) Flush() { _ = w.FlushError() } // Flusher has no error to report

// Hijack passes a hijack on, for handlers that assert http.Hijacker.
func (w *variantWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
