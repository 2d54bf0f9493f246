package validate

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/middleware/lint"
	"github.com/gopaste/gopaste/registry"
)

func serve(t *testing.T, o Options, method string, h http.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	lint.Wrap(t, New(o)(h)).ServeHTTP(w, httptest.NewRequest(method, "/page", nil))
	return w
}

func TestBadHTMLGetsComment(t *testing.T) {
	var logs bytes.Buffer
	o := Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	doc := "<html><body><div>\n<span>x</div></body></html>"
	w := serve(t, o, "GET", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", "47")
		w.Header().Set("ETag", `"abc"`)
		w.WriteHeader(201)
		io.WriteString(w, doc)
	})
	body := w.Body.String()
	if w.Code != 201 || !strings.HasPrefix(body, doc) || !strings.Contains(body, "<!-- validate: 1 problem\n  line 2: </div> closes <span>") {
		t.Errorf("got %d %q", w.Code, body)
	}
	if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %s for %d bytes", cl, len(body))
	}
	if w.Header().Get("ETag") != "" {
		t.Error("ETag kept on a changed body")
	}
	for _, want := range []string{"component=validate", "line=2", "path=/page"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}
}

func TestPassesUnchanged(t *testing.T) {
	tests := []struct {
		name   string
		method string
		h      http.HandlerFunc
		body   string
	}{
		{"clean html", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<p>fine</p>")
		}, "<p>fine</p>"},
		{"not html", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "<div>")
		}, "<div>"},
		{"compressed", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			io.WriteString(w, "<div>")
		}, "<div>"},
		{"too big", "GET", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<div>")
			io.WriteString(w, strings.Repeat("x", 20))
		}, "<div>" + strings.Repeat("x", 20)},
		{"head", "HEAD", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
		}, ""},
		{"empty", "GET", func(w http.ResponseWriter, r *http.Request) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(t, Options{MaxBytes: 16}, tt.method, tt.h)
			if w.Body.String() != tt.body || w.Code != 200 {
				t.Errorf("got %d %q, want 200 %q", w.Code, w.Body, tt.body)
			}
		})
	}
}

func TestSniffedHTML(t *testing.T) {
	w := httptest.NewRecorder()
	New(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!DOCTYPE html><div>")
	})).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(w.Body.String(), "<div> is never closed") {
		t.Errorf("sniffed HTML not checked: %q (%s)", w.Body, w.Header().Get("Content-Type"))
	}
}

// TestFlushStreams: a flushed HTML response goes out as it comes, not
// held to be checked whole.
func TestFlushStreams(t *testing.T) {
	wiretest.StreamsWith(t, New(Options{}), "/", wiretest.StreamOptions{
		ResponseHeader: http.Header{"Content-Type": {"text/html"}},
	})
}

func TestFactory(t *testing.T) {
	c := registry.NewConfig(registry.Filter, "filter:validate", "t.ini:1", "/tmp/t.ini", nil,
		[]registry.Entry{{Key: "max_bytes", Value: "2K"}}, nil, nil)
	if _, err := factory(c); err != nil || len(c.Unread()) != 0 {
		t.Errorf("err %v unread %v", err, c.Unread())
	}
	c = registry.NewConfig(registry.Filter, "filter:validate", "t.ini:1", "/tmp/t.ini", nil,
		[]registry.Entry{{Key: "max_bytes", Value: "big", Origin: "t.ini:2"}}, nil, nil)
	if _, err := factory(c); err == nil || !strings.Contains(err.Error(), `t.ini:2: [filter:validate]: key "max_bytes"`) {
		t.Errorf("err = %v", err)
	}
}

func TestHijack(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(New(Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.Header().Set("Content-Type", "text/html")
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n<div>")
		brw.Flush()
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	<-done
	if string(body) != "<div>" {
		t.Errorf("body %q", body)
	}
}
