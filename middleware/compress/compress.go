// Package compress compresses responses with gzip or zstd, chosen by the
// request's Accept-Encoding, using github.com/klauspost/compress/gzhttp.
//
// It compresses only responses of at least MinSize bytes whose
// Content-Type is compressible, adds "Vary: Accept-Encoding", leaves alone
// a response that already has a Content-Encoding (so nothing is
// compressed twice, even with two compress filters in a chain), drops
// Accept-Ranges from compressed responses, and keeps Flush working: a
// flush sends what was compressed so far.
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
	// every type except those compressed already (video, audio, JPEG,
	// PNG, GIF, WebP, AVIF, WOFF fonts, archives).
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
	types := gzhttp.ContentTypeFilter(compressible)
	if len(o.ContentTypes) > 0 {
		types = gzhttp.ContentTypes(o.ContentTypes)
	}
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(o.MinSize),
		gzhttp.CompressionLevel(o.Level),
		gzhttp.EnableZstd(!o.NoZstd),
		types,
	)
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return func(next http.Handler) http.Handler {
		// compressed runs gzhttp's wrapper around a handler that hands
		// gzhttp's writer to the gate waiting for it (see gate.start).
		compressed := wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g := r.Context().Value(gateKey{}).(*gate)
			g.gz = w
			close(g.ready)
			<-g.done
		}))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if below(w) {
				// A compress filter above already took care of this
				// response (and of Vary).
				next.ServeHTTP(w, r)
				return
			}
			if !mayAccept(r) {
				// gzhttp would only add Vary and wrap the writer to no
				// effect; skip the wrapper and its allocation.
				w.Header().Add("Vary", "Accept-Encoding")
				next.ServeHTTP(w, r)
				return
			}
			g := gatePool.Get().(*gate)
			*g = gate{raw: w, r: r, min: o.MinSize, compressed: compressed, buf: g.buf[:0]}
			defer g.finish()
			next.ServeHTTP(g, r)
		})
	}, nil
}

// mayAccept reports whether Accept-Encoding might accept gzip or zstd;
// when it does, gzhttp decides exactly.
func mayAccept(r *http.Request) bool {
	for _, v := range r.Header["Accept-Encoding"] {
		if containsFold(v, "gzip") || containsFold(v, "zstd") {
			return true
		}
	}
	return false
}

// containsFold is strings.Contains ignoring ASCII case, without
// allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// below reports whether w is, or wraps, a writer of a gzhttp filter.
func below(w http.ResponseWriter) bool {
	for range 32 {
		switch w.(type) {
		case *gzhttp.GzipResponseWriter, gzhttp.GzipResponseWriterWithCloseNotify, *gzhttp.NoGzipResponseWriter, *gate:
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

// compressible is gzhttp's default filter (no video, audio, JPEG or
// archives) that also skips the other image and font formats that are
// compressed already.
func compressible(ct string) bool {
	if !gzhttp.DefaultContentTypeFilter(ct) {
		return false
	}
	ct = strings.ToLower(strings.TrimSpace(ct))
	for _, p := range []string{"image/png", "image/gif", "image/webp", "image/avif", "font/woff"} {
		if strings.HasPrefix(ct, p) {
			return false
		}
	}
	return true
}
