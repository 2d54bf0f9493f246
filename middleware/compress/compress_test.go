package compress

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/registry/registrytest"
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var big = strings.Repeat("hello, compressible world. ", 200) // 5400 bytes

func serve(body, ctype, cenc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		if cenc != "" {
			w.Header().Set("Content-Encoding", cenc)
		}
		io.WriteString(w, body)
	}
}

func decode(t *testing.T, enc string, b []byte) string {
	t.Helper()
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		return string(out)
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		defer zr.Close()
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		return string(out)
	}
	return string(b)
}

func TestCompress(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		accept   string
		handler  http.Handler
		wantEnc  string
		wantBody string
	}{
		{name: "gzip", accept: "GZip", handler: serve(big, "text/plain", ""), wantEnc: "gzip", wantBody: big},
		{name: "zstd preferred", accept: "gzip, zstd", handler: serve(big, "text/plain", ""), wantEnc: "zstd", wantBody: big},
		{name: "zstd off", opts: Options{NoZstd: true}, accept: "gzip, zstd", handler: serve(big, "text/plain", ""), wantEnc: "gzip", wantBody: big},
		{name: "q values", accept: "gzip;q=1, zstd;q=0.5", handler: serve(big, "text/plain", ""), wantEnc: "gzip", wantBody: big},
		{name: "no accept", handler: serve(big, "text/plain", ""), wantBody: big},
		{name: "identity only", accept: "identity", handler: serve(big, "text/plain", ""), wantBody: big},
		{name: "small", accept: "gzip", handler: serve("tiny", "text/plain", ""), wantBody: "tiny"},
		{name: "min size", opts: Options{MinSize: 10000}, accept: "gzip", handler: serve(big, "text/plain", ""), wantBody: big},
		{name: "already compressed type", accept: "gzip", handler: serve(big, "image/png", ""), wantBody: big},
		{name: "content types match", opts: Options{ContentTypes: []string{"application/json"}}, accept: "gzip",
			handler: serve(big, "application/json; charset=utf-8", ""), wantEnc: "gzip", wantBody: big},
		{name: "content types miss", opts: Options{ContentTypes: []string{"application/json"}}, accept: "gzip",
			handler: serve(big, "text/html", ""), wantBody: big},
		{name: "already encoded", accept: "gzip", handler: serve(big, "text/plain", "br"), wantEnc: "br", wantBody: big},
		{name: "level 9", opts: Options{Level: 9}, accept: "gzip", handler: serve(big, "text/plain", ""), wantEnc: "gzip", wantBody: big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			rec := httptest.NewRecorder()
			f(tt.handler).ServeHTTP(rec, req)
			enc := rec.Header().Get("Content-Encoding")
			if enc != tt.wantEnc {
				t.Errorf("Content-Encoding = %q, want %q", enc, tt.wantEnc)
			}
			if vs := rec.Header().Values("Vary"); len(vs) != 1 || vs[0] != "Accept-Encoding" {
				t.Errorf("Vary = %q, want one Accept-Encoding", vs)
			}
			if got := decode(t, enc, rec.Body.Bytes()); got != tt.wantBody {
				t.Errorf("body (%d bytes) differs from the %d sent", len(got), len(tt.wantBody))
			}
		})
	}
}

func TestNeverTwice(t *testing.T) {
	outer, _ := New(Options{})
	inner, _ := New(Options{NoZstd: true})
	h := outer(inner(serve(big, "text/plain", "")))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip, zstd")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if enc := rec.Header().Get("Content-Encoding"); enc != "zstd" {
		t.Errorf("Content-Encoding = %q, want the outer filter's zstd", enc)
	}
	if vs := rec.Header().Values("Vary"); len(vs) != 1 {
		t.Errorf("Vary = %q, want one", vs)
	}
	if got := decode(t, "zstd", rec.Body.Bytes()); got != big {
		t.Errorf("body compressed twice or damaged (%d bytes)", len(got))
	}
}

// TestNoAcceptPassesThrough: without gzip or zstd in Accept-Encoding the
// handler gets the writer the filter got (nothing to wrap it for), and
// two filters still send one Vary.
func TestNoAcceptPassesThrough(t *testing.T) {
	outer, _ := New(Options{})
	inner, _ := New(Options{})
	for _, accept := range []string{"", "identity", "br, deflate;q=0.5"} {
		rec := httptest.NewRecorder()
		var got http.ResponseWriter
		h := outer(inner(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = w
			serve(big, "text/plain", "").ServeHTTP(w, r)
		})))
		req := httptest.NewRequest("GET", "/", nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		h.ServeHTTP(rec, req)
		if got != http.ResponseWriter(rec) {
			t.Errorf("Accept-Encoding %q: the handler got %T, want the recorder", accept, got)
		}
		if vs := rec.Header().Values("Vary"); len(vs) != 1 || vs[0] != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary = %q, want one Accept-Encoding", accept, vs)
		}
		if rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != big {
			t.Errorf("Accept-Encoding %q: body changed", accept)
		}
	}
}

// TestFlushStreams checks over a real connection that each flushed chunk
// of a compressed response reaches the client before the next is written.
func TestFlushStreams(t *testing.T) {
	f, _ := New(Options{MinSize: 1})
	resp := wiretest.StreamsWith(t, f, "/", wiretest.StreamOptions{
		// Asked for by the client itself, gzip is left to it to decode.
		Header:         http.Header{"Accept-Encoding": {"gzip"}},
		ResponseHeader: http.Header{"Content-Type": {"text/plain"}},
		Decode: func(resp *http.Response) (io.Reader, error) {
			if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
				return nil, fmt.Errorf("Content-Encoding %q, want gzip", ce)
			}
			return gzip.NewReader(resp.Body)
		},
	})
	if resp.Header.Get("Content-Length") != "" {
		t.Errorf("Content-Length %q on a compressed stream", resp.Header.Get("Content-Length"))
	}
}

func TestNewErrors(t *testing.T) {
	for _, o := range []Options{{MinSize: -1}, {Level: 10}, {Level: -3}, {ContentTypes: []string{"not a type;;"}}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
}

func TestFactory(t *testing.T) {
	tests := []struct {
		name    string
		local   map[string]string
		wantErr string
	}{
		{name: "defaults"},
		{name: "all keys", local: map[string]string{"min_size": "2K", "level": "6", "zstd": "false",
			"content_types": "text/html; charset=utf-8, application/json"}},
		{name: "spaces", local: map[string]string{"content_types": "text/html application/json"}},
		{name: "bad min_size", local: map[string]string{"min_size": "big"}, wantErr: `key "min_size"`},
		{name: "zero min_size", local: map[string]string{"min_size": "0"}, wantErr: `key "min_size"`},
		{name: "bad level", local: map[string]string{"level": "11"}, wantErr: `key "level"`},
		{name: "level not a number", local: map[string]string{"level": "max"}, wantErr: `key "level"`},
		{name: "bad zstd", local: map[string]string{"zstd": "perhaps"}, wantErr: `key "zstd"`},
		{name: "bad content_types", local: map[string]string{"content_types": "text/html;;, =x"}, wantErr: `key "content_types"`},
	}
	for _, alias := range []string{"compress", "gzip", "egg:Paste#gzip"} {
		for _, tt := range tests {
			t.Run(alias+"/"+tt.name, func(t *testing.T) {
				registrytest.CheckFilter(t, alias, "filter:gz", "/tmp/t.ini", tt.local, tt.wantErr)
			})
		}
	}
}

// withLength answers body with its Content-Length set before the write,
// as the text and static apps do.
func withLength(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set(gzhttp.HeaderNoCompression, "1") // must not reach the client either way
		w.Header().Del(gzhttp.HeaderNoCompression)
		io.WriteString(w, body)
	}
}

// TestDeclaredLength: a response that declares a length below min_size
// passes uncompressed (with Vary), one above is compressed, and the
// filter's writer keeps reaching the connection's for Flush.
func TestDeclaredLength(t *testing.T) {
	f, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body, wantEnc string
	}{
		{"small", "Hello, World!\n", ""},
		{"large", big, "zstd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", "gzip, zstd")
			f(withLength(tc.body)).ServeHTTP(rec, req)
			if got := rec.Header().Get("Content-Encoding"); got != tc.wantEnc {
				t.Errorf("Content-Encoding %q, want %q", got, tc.wantEnc)
			}
			if got := decode(t, tc.wantEnc, rec.Body.Bytes()); got != tc.body {
				t.Errorf("body %q", got)
			}
			if rec.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary %q", rec.Header().Get("Vary"))
			}
			if tc.wantEnc == "" && rec.Header().Get("Content-Length") != strconv.Itoa(len(tc.body)) {
				t.Errorf("Content-Length %q", rec.Header().Get("Content-Length"))
			}
		})
	}
	t.Run("flush", func(t *testing.T) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		})).ServeHTTP(rec, req)
		if !rec.Flushed || rec.Body.String() != "hello" {
			t.Errorf("flushed %v, body %q", rec.Flushed, rec.Body)
		}
	})
}

// TestUnknownLength: an answer without Content-Length is held until it
// reaches min_size: a short one goes out plain (status kept), a long one
// written in small pieces is compressed whole.
func TestUnknownLength(t *testing.T) {
	f, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short")
		io.WriteString(w, " answer")
	})).ServeHTTP(rec, req)
	if rec.Code != http.StatusTeapot || rec.Body.String() != "short answer" || rec.Header().Get("Content-Encoding") != "" || rec.Header().Get("Vary") != "Accept-Encoding" {
		t.Errorf("short: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		for i := 0; i < len(big); i += 100 {
			io.WriteString(w, big[i:min(i+100, len(big))])
		}
	})).ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated || rec.Header().Get("Content-Encoding") != "gzip" || decode(t, "gzip", rec.Body.Bytes()) != big {
		t.Errorf("long: %d %v, %d bytes", rec.Code, rec.Header(), rec.Body.Len())
	}
}

// TestEnds: a handler that writes nothing still gets Vary; one that
// panics after starting a compressed answer panics to its caller, and the
// compressed part written so far is complete.
func TestEnds(t *testing.T) {
	f, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Header().Get("Vary") != "Accept-Encoding" || rec.Body.Len() != 0 {
		t.Errorf("empty answer: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}

	rec = httptest.NewRecorder()
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want boom", v)
			}
		}()
		f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, big)
			panic("boom")
		})).ServeHTTP(rec, req)
	}()
	if rec.Header().Get("Content-Encoding") != "gzip" || decode(t, "gzip", rec.Body.Bytes()) != big {
		t.Errorf("panicking handler's answer: %v, %d bytes", rec.Header(), rec.Body.Len())
	}
}

// TestOverHTTP: both kinds of answer over a real connection, several on
// one keep-alive connection.
func TestOverHTTP(t *testing.T) {
	f, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/small" {
			withLength("small")(w, r)
			return
		}
		withLength(big)(w, r)
	})))
	defer srv.Close()
	for range 3 {
		for _, p := range []string{"/small", "/big"} {
			req, _ := http.NewRequest("GET", srv.URL+p, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want, enc := "small", ""
			if p == "/big" {
				want, enc = big, "gzip"
			}
			if res.Header.Get("Content-Encoding") != enc || decode(t, enc, b) != want {
				t.Errorf("GET %s: %v, %d bytes", p, res.Header, len(b))
			}
		}
	}
}
