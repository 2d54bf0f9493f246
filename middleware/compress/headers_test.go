package compress

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// page serves body as a file would be served: http.ServeContent with the
// ETag etag, so conditional and HEAD requests take net/http's own path.
func page(etag, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", etag)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(body))
	})
}

// words is 64 KiB of text that still takes more than net/http's 2 KiB
// buffer when compressed, so a GET of it is sent chunked.
var words = func() string {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < 64<<10 {
		for range 1 + rng.IntN(9) {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		b.WriteByte(' ')
	}
	return b.String()
}()

// TestVariantETags (issue 13): a compressed variant's ETag is never the
// identity's strong ETag, and a conditional request naming it still
// answers 304, with that ETag.
func TestVariantETags(t *testing.T) {
	f, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, etag, accept, ifNoneMatch string
		wantCode                        int
		wantETag, wantEnc               string
	}{
		{"identity", `"abc"`, "", "", 200, `"abc"`, ""},
		{"gzip", `"abc"`, "gzip", "", 200, `"abc-gzip"`, "gzip"},
		{"zstd", `"abc"`, "gzip, zstd", "", 200, `"abc-zstd"`, "zstd"},
		{"weak", `W/"abc"`, "gzip", "", 200, `W/"abc-gzip"`, "gzip"},
		{"gzip 304", `"abc"`, "gzip", `"abc-gzip"`, 304, `"abc-gzip"`, ""},
		{"zstd 304", `"abc"`, "zstd", `"x", "abc-zstd"`, 304, `"abc-zstd"`, ""},
		{"weak 304", `"abc"`, "gzip", `W/"abc-gzip"`, 304, `W/"abc-gzip"`, ""},
		{"identity tag 304", `"abc"`, "gzip", `"abc"`, 304, `"abc"`, ""},
		{"stale variant", `"def"`, "gzip", `"abc-gzip"`, 200, `"def-gzip"`, "gzip"},
		{"star", `"abc"`, "gzip", `*`, 304, `"abc"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			if tt.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tt.ifNoneMatch)
			}
			rec := httptest.NewRecorder()
			f(page(tt.etag, big)).ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d", rec.Code, tt.wantCode)
			}
			if got := rec.Header().Get("Etag"); got != tt.wantETag {
				t.Errorf("ETag %s, want %s", got, tt.wantETag)
			}
			enc := rec.Header().Get("Content-Encoding")
			if enc != tt.wantEnc {
				t.Errorf("Content-Encoding %q, want %q", enc, tt.wantEnc)
			}
			if tt.wantCode == 200 && decode(t, enc, rec.Body.Bytes()) != big {
				t.Errorf("body damaged (%d bytes)", rec.Body.Len())
			}
			if got := req.Header.Get("If-None-Match"); got != tt.ifNoneMatch {
				t.Errorf("the caller's request changed: If-None-Match %q", got)
			}
		})
	}
}

func TestVariantTags(t *testing.T) {
	got := variantTags([]string{`"a-gzip", W/"b,-zstd" ,"c"`, `*`, `"d-gzip`, `W/"e-gzip"`})
	want := []variantTag{{`"a-gzip"`, `"a"`}, {`W/"b,-zstd"`, `W/"b,"`}, {`W/"e-gzip"`, `W/"e"`}}
	if len(got) != len(want) {
		t.Fatalf("variantTags = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("tag %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestHeadLikeGet (issue 13): HEAD answers the headers GET does, over a
// real connection, for a compressed and an uncompressed answer.
func TestHeadLikeGet(t *testing.T) {
	f, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/file", page(`"abc"`, words))
	mux.Handle("/small", withLength("small"))
	mux.HandleFunc("/written", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, big) // written for HEAD too; compressed, it fits net/http's buffer
	})
	srv := httptest.NewServer(f(mux))
	defer srv.Close()
	for _, path := range []string{"/file", "/small", "/written"} {
		for _, accept := range []string{"gzip", "zstd", ""} {
			heads := map[string]http.Header{}
			for _, method := range []string{"GET", "HEAD"} {
				req, _ := http.NewRequest(method, srv.URL+path, nil)
				req.Header.Set("Accept-Encoding", accept) // "" keeps the transport from adding gzip
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				res.Header.Del("Date")
				heads[method] = res.Header
				if res.ContentLength >= 0 {
					res.Header.Set("X-Length", "known") // the transport turns Content-Length into it
				}
			}
			for _, k := range []string{"Content-Encoding", "Content-Length", "Etag", "Vary", "Content-Type", "Accept-Ranges", "X-Length"} {
				if g, h := heads["GET"].Values(k), heads["HEAD"].Values(k); strings.Join(g, "|") != strings.Join(h, "|") {
					t.Errorf("%s with Accept-Encoding %q: %s: GET %q, HEAD %q", path, accept, k, g, h)
				}
			}
			if path == "/file" && accept != "" {
				if heads["HEAD"].Get("Content-Encoding") != accept || heads["GET"].Get("X-Length") != "" {
					t.Errorf("%s: HEAD Content-Encoding %q, want %q; GET of known length %q", path,
						heads["HEAD"].Get("Content-Encoding"), accept, heads["GET"].Get("X-Length"))
				}
			}
		}
	}
}

// TestAlreadyCompressed (issue 13): content compressed already, by its
// type or, untyped, by its first bytes, goes out as it is unless
// content_types names its type.
func TestAlreadyCompressed(t *testing.T) {
	zb, _ := zstd.NewWriter(nil)
	packed := string(zb.EncodeAll([]byte(big), nil)) + big // a zstd frame, padded past min_size
	tests := []struct {
		name, ctype, body string
		opts              Options
		want              bool
	}{
		{"octet-stream", "application/octet-stream", big, Options{}, false},
		{"octet-stream configured", "application/octet-stream", big, Options{ContentTypes: []string{"application/octet-stream"}}, true},
		{"png", "image/png", big, Options{}, false},
		{"webp", "image/webp", big, Options{}, false},
		{"avif", "image/avif", big, Options{}, false},
		{"heic", "image/heic", big, Options{}, false},
		{"svg", "image/svg+xml", big, Options{}, true},
		{"bmp", "image/bmp", big, Options{}, true},
		{"video", "video/mp4", big, Options{}, false},
		{"zip", "application/zip", big, Options{}, false},
		{"gzip", "application/gzip", big, Options{}, false},
		{"rar", "application/vnd.rar", big, Options{}, false},
		{"woff2", "font/woff2", big, Options{}, false},
		{"pdf", "application/pdf", big, Options{}, false},
		{"json", "application/json", big, Options{}, true},
		{"html", "text/html; charset=utf-8", big, Options{}, true},
		{"untyped text", "", big, Options{}, true},
		{"untyped zstd", "", packed, Options{}, false},
		{"untyped gzip", "", "\x1f\x8b\x08\x00" + big, Options{}, false},
		{"untyped png", "", "\x89PNG\r\n\x1a\n" + big, Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			f(serve(tt.body, tt.ctype, "")).ServeHTTP(rec, req)
			enc := rec.Header().Get("Content-Encoding")
			if got := enc == "gzip"; got != tt.want {
				t.Errorf("Content-Type %q: compressed %v, want %v", tt.ctype, got, tt.want)
			}
			if decode(t, enc, rec.Body.Bytes()) != tt.body {
				t.Errorf("body damaged")
			}
		})
	}
}
