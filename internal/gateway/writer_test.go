package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// reply runs h through a Writer with head and returns the bytes it wrote.
func reply(t *testing.T, method string, head Head, h http.HandlerFunc) string {
	t.Helper()
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	r := httptest.NewRequest(method, "/x", nil)
	w := NewWriter(r, head, bw)
	if err := Run(h, w, r, slog.New(slog.DiscardHandler)); err != nil {
		return "aborted: " + out.String()
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	return out.String()
}

func TestWriterHeads(t *testing.T) {
	hello := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Sun, 06 Dec 2026 10:00:00 GMT")
		w.Header().Set("X-B", "2")
		w.Header().Set("X-A", "1")
		io.WriteString(w, "hello")
	}
	for _, tc := range []struct {
		name   string
		method string
		head   Head
		h      http.HandlerFunc
		want   string
	}{
		{"cgi", "GET", CGIHead, hello,
			"Status: 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Sun, 06 Dec 2026 10:00:00 GMT\r\nX-A: 1\r\nX-B: 2\r\n\r\nhello"},
		{"http", "GET", HTTPHead, hello,
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Sun, 06 Dec 2026 10:00:00 GMT\r\nX-A: 1\r\nX-B: 2\r\n\r\nhello"},
		{"head", "HEAD", CGIHead, hello,
			"Status: 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Sun, 06 Dec 2026 10:00:00 GMT\r\nX-A: 1\r\nX-B: 2\r\n\r\n"},
		{"head without body", "HEAD", CGIHead, func(w http.ResponseWriter, r *http.Request) {},
			"Status: 200 OK\r\n\r\n"},
		{"empty", "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) {},
			"Status: 200 OK\r\nContent-Length: 0\r\n\r\n"},
		{"unknown status", "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) },
			"Status: 599 status code 599\r\nContent-Length: 0\r\n\r\n"},
		{"304", "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Etag", `"x"`)
			w.WriteHeader(304)
			io.WriteString(w, "dropped")
		}, "Status: 304 Not Modified\r\nEtag: \"x\"\r\n\r\n"},
		{"103 then 200", "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</a.css>; rel=preload")
			w.WriteHeader(103)
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, "a{}")
		}, "Status: 200 OK\r\nContent-Length: 3\r\nContent-Type: text/css\r\nLink: </a.css>; rel=preload\r\n\r\na{}"},
		{"hop-by-hop and Status", "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) {
			for _, k := range []string{"Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Trailer", "Te", "Proxy-Connection", "Status", "Trailer:X"} {
				w.Header().Set(k, "1")
			}
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("X-Bad", "a\r\nX-Injected: 1")
		}, "Status: 200 OK\r\nContent-Length: 0\r\nContent-Type: text/plain\r\nX-Bad: a  X-Injected: 1\r\n\r\n"},
		{"panic before", "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", "r1")
			w.Header().Set("X-Gone", "1")
			panic("boom")
		}, "Status: 500 Internal Server Error\r\nContent-Length: 26\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nX-Request-Id: r1\r\n\r\n500 Internal Server Error\n"},
		{"panic after flush", "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "cut")
			w.(http.Flusher).Flush()
			panic("boom")
		}, "aborted: Status: 200 OK\r\nContent-Type: text/plain\r\n\r\ncut"},
		{"abort handler", "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}, "aborted: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reply(t, tc.method, tc.head, tc.h); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestWriterStreamsPastBufferLimit(t *testing.T) {
	big := strings.Repeat("<p>x</p>", BufferLimit/8+1)
	got := reply(t, "GET", CGIHead, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) })
	want := "Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + big
	if got != want {
		t.Errorf("got %q..., want no Content-Length and a sniffed type", got[:80])
	}
}

func TestRunLogsStackAndRequestID(t *testing.T) {
	var logs bytes.Buffer
	r := httptest.NewRequest("GET", "/p", nil)
	r.Header.Set("X-Request-Id", "from-nginx")
	w := NewWriter(r, CGIHead, bufio.NewWriter(io.Discard))
	err := Run(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), w, r, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || w.Status() != 500 {
		t.Errorf("Run = %v, status %d; want nil and a 500", err, w.Status())
	}
	for _, want := range []string{"handler panic", "request_id=from-nginx", "err=boom", "stack=", "TestRunLogsStackAndRequestID"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q: %s", want, logs.String())
		}
	}
}

// failSink fails every write, as a connection the web server closed.
type failSink struct{}

func (failSink) Write([]byte) (int, error)       { return 0, errGone }
func (failSink) WriteString(string) (int, error) { return 0, errGone }
func (failSink) Flush() error                    { return errGone }

var errGone = errors.New("gone")

func TestWriterOnError(t *testing.T) {
	calls := 0
	w := NewWriter(httptest.NewRequest("GET", "/", nil), CGIHead, failSink{})
	w.OnError = func() { calls++ }
	io.WriteString(w, "x")
	if err := w.FlushError(); !errors.Is(err, errGone) {
		t.Errorf("FlushError = %v", err)
	}
	if _, err := io.WriteString(w, "y"); !errors.Is(err, errGone) {
		t.Errorf("Write after failure = %v", err)
	}
	if calls != 1 {
		t.Errorf("OnError called %d times, want 1", calls)
	}
	if err := w.SetWriteDeadline(time.Now()); !errors.Is(err, http.ErrNotSupported) {
		t.Errorf("SetWriteDeadline without Conn = %v", err)
	}
}

func TestTimeoutDefaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want time.Duration
	}{
		{"header default", HeaderTimeout(0, 0), time.Minute},
		{"header set", HeaderTimeout(5*time.Second, 0), 5 * time.Second},
		{"header capped by read", HeaderTimeout(0, 10*time.Second), 10 * time.Second},
		{"idle default", IdleTimeout(0, 0), time.Minute},
		{"idle from read", IdleTimeout(0, 7*time.Second), 7 * time.Second},
		{"idle set", IdleTimeout(3*time.Second, 7*time.Second), 3 * time.Second},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
