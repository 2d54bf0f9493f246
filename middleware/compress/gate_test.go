package compress

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/klauspost/compress/gzhttp"
)

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

// TestGateEnds: a handler that writes nothing still gets Vary; one that
// panics after starting a compressed answer panics to its caller, and the
// compressed part written so far is complete.
func TestGateEnds(t *testing.T) {
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

// TestGateOverHTTP: both kinds of answer over a real connection, several
// on one keep-alive connection, with the race detector watching the
// hand-over between the handler's goroutine and gzhttp's.
func TestGateOverHTTP(t *testing.T) {
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

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkSmall is the benchmarks' filters scenario in process: a
// 14-byte answer with its length declared (as the text app sends it),
// gzip accepted, bare and behind the filter. Run with -benchmem.
func BenchmarkSmall(b *testing.B) {
	f, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"bare", withLength("Hello, World!\n")}, {"compress", f(withLength("Hello, World!\n"))}} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkLarge: a 5400-byte answer that is compressed, so that the
// hand-over to gzhttp's writer shows next to the compression itself.
func BenchmarkLarge(b *testing.B) {
	f, err := New(Options{Level: 1, NoZstd: true})
	if err != nil {
		b.Fatal(err)
	}
	h := f(withLength(big))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
