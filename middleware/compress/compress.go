// Package compress compresses responses with gzip or zstd, chosen by the
// request's Accept-Encoding, using github.com/klauspost/compress/gzhttp.
//
// It compresses only responses of at least MinSize bytes whose
// Content-Type is compressible, adds "Vary: Accept-Encoding", leaves alone
// a response that already has a Content-Encoding (so nothing is
// compressed twice, even with two compress filters in a chain), drops
// Accept-Ranges from compressed responses, and keeps Flush working: a
// flush sends what was compressed so far.
//
// A compressed response is another representation (RFC 9110 §8.8.3): its
// ETag gets the suffix "-gzip" or "-zstd" inside the quotes. A request
// whose If-None-Match names such a tag reaches the handler with the
// identity's tag added, so the handler can answer 304, and that 304
// carries the tag the client sent. A HEAD request gets the headers the GET
// would: Content-Encoding, no Content-Length.
package compress

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/klauspost/compress/gzhttp"
)

// Options configure the filter. The zero value compresses with the
// defaults below.
type Options struct {
	// MinSize is the smallest body compressed, in bytes; zero means
	// DefaultMinSize. Smaller bodies go out as they are.
	MinSize int
	// ContentTypes, when set, are the media types compressed ("text/html",
	// "application/json"; parameters must match when given). Empty means
	// every type except those compressed already: see [Compressible].
	ContentTypes []string
	// Level is the gzip level, 1 (fastest) to 9 (smallest); zero means
	// the library's default (-1 is accepted as the same).
	Level int
	// NoZstd turns zstd off, leaving gzip only.
	NoZstd bool
}

// DefaultMinSize is gzhttp's default threshold.
const DefaultMinSize = gzhttp.DefaultMinSize

// New returns the filter.
func New(o Options) (func(http.Handler) http.Handler, error) {
	if o.MinSize < 0 {
		return nil, fmt.Errorf("compress: min size %d is negative", o.MinSize)
	}
	if o.MinSize == 0 {
		o.MinSize = DefaultMinSize
	}
	if o.Level == 0 {
		o.Level = -1
	}
	if o.Level < -1 || o.Level > 9 {
		return nil, fmt.Errorf("compress: level %d out of range 1..9", o.Level)
	}
	for _, ct := range o.ContentTypes {
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			return nil, fmt.Errorf("compress: bad content type %q: %w", ct, err)
		}
	}
	types := gzhttp.ContentTypeFilter(Compressible)
	if len(o.ContentTypes) > 0 {
		types = gzhttp.ContentTypes(o.ContentTypes)
	}
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(o.MinSize),
		gzhttp.CompressionLevel(o.Level),
		gzhttp.EnableZstd(!o.NoZstd),
		gzhttp.SuffixETag("-gzip"), // "-zstd" for zstd
		types,
	)
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return func(next http.Handler) http.Handler {
		compressed := wrap(variants(next, false))
		// gzhttp never compresses a HEAD answer: it sees the request as
		// a GET, and the handler as the HEAD it is.
		compressedHead := wrap(variants(next, true))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case below(w):
				// A compress filter above takes care of this response
				// (and of Vary).
				next.ServeHTTP(w, r)
			case !mayAccept(r.Header["Accept-Encoding"]):
				// Nothing to negotiate: gzhttp would add Vary and pass
				// the response through its writer unchanged.
				addVary(w.Header())
				next.ServeHTTP(w, r)
			case r.Method == http.MethodHead:
				r2 := new(http.Request)
				*r2 = *r
				r2.Method = http.MethodGet
				compressedHead.ServeHTTP(w, r2)
			default:
				compressed.ServeHTTP(w, r)
			}
		})
	}, nil
}

// mayAccept reports whether Accept-Encoding field values may accept gzip
// or zstd; when they may, gzhttp decides exactly.
func mayAccept(values []string) bool {
	for _, v := range values {
		if containsFold(v, "gzip") || containsFold(v, "zstd") {
			return true
		}
	}
	return false
}

// containsFold is strings.Contains ignoring ASCII case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// addVary adds "Vary: Accept-Encoding" as gzhttp does, once: a compress
// filter further in that skipped gzhttp too finds it there.
func addVary(h http.Header) {
	for _, v := range h["Vary"] {
		if v == "Accept-Encoding" {
			return
		}
	}
	h["Vary"] = append(h["Vary"], "Accept-Encoding")
}

// below reports whether w is, or wraps, the writer of a gzhttp filter.
func below(w http.ResponseWriter) bool {
	for range 32 {
		switch w.(type) {
		case *gzhttp.GzipResponseWriter, gzhttp.GzipResponseWriterWithCloseNotify, *gzhttp.NoGzipResponseWriter:
			return true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
	return false
}

// Compressible is the default content type filter: gzhttp's (no video,
// audio, JPEG, archives) without the other formats that are compressed
// already: every image type but SVG, BMP and icons, WOFF fonts, and
// application/octet-stream, which is what an untyped body of binary
// bytes is sniffed as (gzhttp sniffs the first bytes of an untyped body,
// so a gzip, zstd, PNG or ZIP body without a type is left alone too).
// Options.ContentTypes overrides it.
func Compressible(ct string) bool {
	if !gzhttp.DefaultContentTypeFilter(ct) {
		return false
	}
	mt, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(ct)), ";")
	mt = strings.TrimSpace(mt)
	switch mt {
	case "image/svg+xml", "image/bmp", "image/x-icon", "image/vnd.microsoft.icon":
		return true
	case "application/octet-stream", "application/vnd.rar", "application/x-rar",
		"application/x-7z-compressed", "application/x-bzip", "application/x-bzip2", "application/pdf":
		return false
	}
	return !strings.HasPrefix(mt, "image/") && !strings.HasPrefix(mt, "font/woff")
}
