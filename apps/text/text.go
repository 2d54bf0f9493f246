// Package text implements an app that answers every request with one fixed
// body: a maintenance page, a health answer, the hello world of the
// benchmarks.
//
// The response is built once, at construction: the header values are
// precomputed slices that each request puts into the header map as they
// are, so serving a request allocates nothing beyond what net/http does.
package text

import (
	"fmt"
	"net/http"
	"strconv"
)

// DefaultBody is the body an [Options] with no Body answers: 14 bytes, the
// same as a net/http hello world that writes "Hello, World!\n".
const DefaultBody = "Hello, World!\n"

// DefaultContentType is the Content-Type an [Options] with no ContentType
// sends.
const DefaultContentType = "text/plain; charset=utf-8"

// Options configure a [Handler].
type Options struct {
	Body        []byte // the response body; nil means DefaultBody
	ContentType string // empty means DefaultContentType
	Status      int    // zero means 200
}

// Handler answers every request with the same status, headers and body.
// It is safe for concurrent use.
type Handler struct {
	status        int
	body          []byte
	bodyAllowed   bool
	contentType   []string // shared by every response; never modified
	contentLength []string
}

// New validates o and returns the handler.
func New(o Options) (*Handler, error) {
	if o.Status == 0 {
		o.Status = http.StatusOK
	}
	if o.Status < 100 || o.Status > 999 {
		return nil, fmt.Errorf("text: status %d is not an HTTP status code", o.Status)
	}
	if o.Status < 200 {
		// A 1xx answer is informational: net/http would then send a
		// second, final response of its own.
		return nil, fmt.Errorf("text: status %d is informational, not a final answer", o.Status)
	}
	if o.Body == nil {
		o.Body = []byte(DefaultBody)
	}
	if o.ContentType == "" {
		o.ContentType = DefaultContentType
	}
	h := &Handler{
		status:      o.Status,
		body:        o.Body,
		bodyAllowed: o.Status != http.StatusNoContent && o.Status != http.StatusNotModified,
		// Full slice expressions: a filter that appends to one of these
		// values gets a copy instead of changing every later response.
		contentType:   []string{o.ContentType}[:1:1],
		contentLength: []string{strconv.Itoa(len(o.Body))}[:1:1],
	}
	if !h.bodyAllowed {
		h.body = nil
	}
	return h, nil
}

// ServeHTTP writes the fixed response; a HEAD request gets the headers only.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if h.bodyAllowed {
		hdr["Content-Type"] = h.contentType
		if r.Method == http.MethodHead || len(h.body) > measured {
			hdr["Content-Length"] = h.contentLength
		}
	}
	w.WriteHeader(h.status)
	if r.Method != http.MethodHead && len(h.body) > 0 {
		w.Write(h.body) // a write error means the client is gone; nothing to do
	}
}

// measured is the longest body whose Content-Length the servers work out
// themselves when the handler writes it whole and returns (net/http's
// buffer before it would chunk; the gateway servers hold 4 KiB).
const measured = 2048

var _ http.Handler = (*Handler)(nil)
