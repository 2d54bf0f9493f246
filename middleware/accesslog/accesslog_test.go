package accesslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/middleware/requestid"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// fakeClock returns start on the first call and start+step after that.
func fakeClock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	calls := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := start.Add(time.Duration(calls) * step)
		calls++
		return t
	}
}

var t0 = time.Date(2026, 11, 26, 7, 30, 5, 0, time.FixedZone("", -7*3600))

func TestLine(t *testing.T) {
	tests := []struct {
		name    string
		format  Format
		req     func() *http.Request
		handler http.HandlerFunc
		want    string
	}{
		{
			name:   "common",
			format: Common,
			req:    func() *http.Request { return httptest.NewRequest("GET", "/hello?x=1", nil) },
			want:   `192.0.2.1 - - [26/Nov/2026:07:30:05 -0700] "GET /hello?x=1 HTTP/1.1" 200 13` + "\n",
		},
		{
			name:    "no body is a dash, status kept",
			format:  Common,
			req:     func() *http.Request { return httptest.NewRequest("DELETE", "/x", nil) },
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) },
			want:    `192.0.2.1 - - [26/Nov/2026:07:30:05 -0700] "DELETE /x HTTP/1.1" 204 -` + "\n",
		},
		{
			name:    "handler writes nothing",
			format:  Common,
			req:     func() *http.Request { return httptest.NewRequest("GET", "/", nil) },
			handler: func(w http.ResponseWriter, r *http.Request) {},
			want:    `192.0.2.1 - - [26/Nov/2026:07:30:05 -0700] "GET / HTTP/1.1" 200 -` + "\n",
		},
		{
			name:   "mount prefix and user and ipv6",
			format: Common,
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "/blog/2024/a%20b", nil)
				r.RemoteAddr = "[2001:db8::1]:5555"
				r.SetBasicAuth("alice", "pw")
				return mount.Shift(r, "/blog")
			},
			want: `2001:db8::1 - alice [26/Nov/2026:07:30:05 -0700] "GET /blog/2024/a%20b HTTP/1.1" 200 13` + "\n",
		},
		{
			name:   "combined escapes what the client sent",
			format: Combined,
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("User-Agent", "evil\"agent\\\x01é")
				r.Header.Set("Referer", "http://ref.example/")
				return r
			},
			want: `192.0.2.1 - - [26/Nov/2026:07:30:05 -0700] "GET / HTTP/1.1" 200 13 "http://ref.example/" "evil\"agent\\\x01\xc3\xa9"` + "\n",
		},
		{
			name:   "combined without headers",
			format: Combined,
			req:    func() *http.Request { return httptest.NewRequest("GET", "/", nil) },
			want:   `192.0.2.1 - - [26/Nov/2026:07:30:05 -0700] "GET / HTTP/1.1" 200 13 "-" "-"` + "\n",
		},
		{
			name:   "json",
			format: JSON,
			req: func() *http.Request {
				r := httptest.NewRequest("POST", "/api/x?q=\"", nil)
				r.Header.Set("User-Agent", "ua\n")
				return r.WithContext(requestid.With(r.Context(), "rid-7"))
			},
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201); w.Write([]byte("ok")) },
			want: `{"time":"2026-11-26T07:30:05.000-07:00","remote_addr":"192.0.2.1","user":"","method":"POST","uri":"/api/x?q=\"",` +
				`"proto":"HTTP/1.1","status":201,"size":2,"duration_ms":1.500,"referer":"","user_agent":"ua\u000a","request_id":"rid-7"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			f, err := New(Options{Format: tt.format, Output: &buf, Now: fakeClock(t0, 1500*time.Microsecond)})
			if err != nil {
				t.Fatal(err)
			}
			h := tt.handler
			if h == nil {
				h = hello
			}
			f(h).ServeHTTP(httptest.NewRecorder(), tt.req())
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("line (-want +got):\n%s", diff)
			}
			if tt.format == JSON && !json.Valid(buf.Bytes()) {
				t.Errorf("invalid JSON %s", buf.Bytes())
			}
		})
	}
}

func hello(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, World!")) }

func TestBadFormat(t *testing.T) {
	if _, err := New(Options{Format: "apache"}); err == nil {
		t.Error("New accepted format apache")
	}
}

func TestWriterBuffers(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, time.Hour)
	w.Write([]byte("one\n"))
	if out.Len() != 0 {
		t.Errorf("written before flush: %q", out.String())
	}
	w.Flush()
	if out.String() != "one\n" {
		t.Errorf("after Flush: %q", out.String())
	}
	w.Write([]byte("two\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\ntwo\n" {
		t.Errorf("after Close: %q", out.String())
	}
	if _, err := w.Write([]byte("x")); err != ErrClosed {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestWriterTimedFlush(t *testing.T) {
	pr, pw := io.Pipe()
	w := NewWriter(pw, 10*time.Millisecond)
	defer w.Close()
	w.Write([]byte("line\n"))
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 5)
		n, _ := io.ReadFull(pr, b)
		got <- string(b[:n])
	}()
	select {
	case s := <-got:
		if s != "line\n" {
			t.Errorf("read %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("buffered line never flushed")
	}
}

func TestConcurrentLinesStayWhole(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, time.Hour)
	f, _ := New(Options{Output: w})
	h := f(http.HandlerFunc(hello))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/same", nil))
			}
		})
	}
	wg.Wait()
	w.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("%d lines, want 400", len(lines))
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, `"GET /same HTTP/1.1" 200 13`) {
			t.Fatalf("broken line %q", l)
		}
	}
}

// TestWriterReopen: after logrotate moves the file away, Reopen (what
// gopaste serve calls on SIGUSR1) sends the buffered lines to the old
// file and the next ones to a new file under the same name.
func TestWriterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	lf, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWriter(lf, time.Hour)
	defer w.Close()
	w.Write([]byte("before\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("after\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path + ".1"); string(b) != "before\n" {
		t.Errorf("rotated file = %q", b)
	}
	if b, _ := os.ReadFile(path); string(b) != "after\n" {
		t.Errorf("new file = %q", b)
	}
	if err := w.Reopen(); !errors.Is(err, ErrClosed) {
		t.Errorf("Reopen after Close = %v, want ErrClosed", err)
	}
}

func TestFileClose(t *testing.T) {
	lf, err := OpenFile(filepath.Join(t.TempDir(), "a.log"))
	if err != nil {
		t.Fatal(err)
	}
	lf.Close()
	if _, err := lf.Write([]byte("x")); err == nil {
		t.Error("write after close succeeded")
	}
}

func TestStreaming(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, 0)
	f, _ := New(Options{Output: w})
	wiretest.Streams(t, f, "/s") // returns once the handler has, and so its log line
	if !strings.Contains(buf.String(), `"GET /s HTTP/1.1" 200 13`) {
		t.Errorf("log = %q", buf.String())
	}
}

func TestServeContentKeepsCount(t *testing.T) {
	var buf bytes.Buffer
	f, _ := New(Options{Output: &buf})
	body := strings.Repeat("x", 10000)
	h := f(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "a.txt", time.Time{}, strings.NewReader(body))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/a.txt", nil))
	if !strings.Contains(buf.String(), " 200 10000\n") || rec.Body.Len() != 10000 {
		t.Errorf("log = %q, body %d bytes", buf.String(), rec.Body.Len())
	}
}

func TestFactory(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		local   map[string]string
		wantErr string
	}{
		{name: "defaults"},
		{name: "all keys", local: map[string]string{"format": "json", "file": "access.log", "flush_interval": "0"}},
		{name: "stderr", local: map[string]string{"file": "stderr", "format": "combined"}},
		{name: "bad format", local: map[string]string{"format": "fancy"}, wantErr: `key "format"`},
		{name: "bad flush_interval", local: map[string]string{"flush_interval": "often"}, wantErr: `key "flush_interval"`},
		{name: "bad file", local: map[string]string{"file": filepath.Join(dir, "no", "such", "dir.log")}, wantErr: `key "file"`},
	}
	for _, alias := range []string{"accesslog", "translogger", "egg:Paste#translogger"} {
		for _, tt := range tests {
			t.Run(alias+"/"+tt.name, func(t *testing.T) {
				registrytest.CheckFilter(t, alias, "filter:log", filepath.Join(dir, "t.ini"), tt.local, tt.wantErr)
			})
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "access.log")); err != nil {
		t.Errorf("relative file not opened beside the config: %v", err)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func BenchmarkFormats(b *testing.B) {
	for _, format := range []Format{"bare", Common, Combined, JSON} {
		b.Run(string(format), func(b *testing.B) {
			var h http.Handler = http.HandlerFunc(hello)
			if format != "bare" {
				f, _ := New(Options{Format: format, Output: NewWriter(io.Discard, time.Second)})
				h = f(h)
			}
			req := httptest.NewRequest("GET", "/hello", nil)
			req.Header.Set("User-Agent", "bench")
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

// TestTimeCache checks the cached time formats against time.Format across
// seconds, zones and millisecond values.
func TestTimeCache(t *testing.T) {
	l := &logger{}
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("", -7*3600)}
	for i := range 200 {
		tm := time.Date(2026, 1, 31, 23, 59, 58, 0, zones[i%3]).Add(time.Duration(i) * 7919 * time.Microsecond * 37)
		if got, want := string(l.appendTime(nil, tm)), tm.Format("[02/Jan/2006:15:04:05 -0700]"); got != want {
			t.Fatalf("appendTime(%v) = %q, want %q", tm, got, want)
		}
		if got, want := string(l.appendJSONTime(nil, tm)), tm.Format("2006-01-02T15:04:05.000Z07:00"); got != want {
			t.Fatalf("appendJSONTime(%v) = %q, want %q", tm, got, want)
		}
	}
}
