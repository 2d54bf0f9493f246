package middleware_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/middleware/accesslog"
	"github.com/gopaste/gopaste/middleware/compress"
	"github.com/gopaste/gopaste/middleware/errorpage"
	"github.com/gopaste/gopaste/middleware/headers"
	"github.com/gopaste/gopaste/middleware/httpexc"
	"github.com/gopaste/gopaste/middleware/proxyfix"
	"github.com/gopaste/gopaste/middleware/requestid"
)

// filters builds each filter of this family with ordinary options.
func filters(t *testing.T) map[string]func(http.Handler) http.Handler {
	t.Helper()
	must := func(f func(http.Handler) http.Handler, err error) func(http.Handler) http.Handler {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	all := map[string]func(http.Handler) http.Handler{
		"requestid":      must(requestid.New(requestid.Options{})),
		"accesslog":      must(accesslog.New(accesslog.Options{Output: io.Discard})),
		"errors":         must(errorpage.New(errorpage.Options{})),
		"httpexceptions": must(httpexc.New(httpexc.Options{})),
		"compress":       must(compress.New(compress.Options{MinSize: 1})),
		"headers":        must(headers.New(headers.Options{Preset: "security", Rules: []headers.Rule{{Op: headers.Set, Name: "X-A", Value: "1"}}})),
		"proxyfix":       must(proxyfix.New(proxyfix.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})),
	}
	// All of them at once, in the usual order.
	all["stack"] = func(h http.Handler) http.Handler {
		for _, n := range []string{"compress", "httpexceptions", "errors", "accesslog", "requestid", "headers", "proxyfix"} {
			h = all[n](h)
		}
		return h
	}
	return all
}

// app serves the three behaviours every wrapper must pass through.
func app(t *testing.T, release chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first\n")
		// Both ways handlers flush: the controller, and the assertion
		// older code uses.
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		} else {
			t.Errorf("%T is not an http.Flusher", w)
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "second\n")
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		brw.Flush()
	})
	mux.HandleFunc("/deadline", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetReadDeadline: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		io.WriteString(w, "deadlines")
	})
	return mux
}

func TestPassThrough(t *testing.T) {
	for name, f := range filters(t) {
		t.Run(name, func(t *testing.T) {
			release := make(chan struct{})
			srv := httptest.NewServer(f(app(t, release)))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			get := func(path string) *http.Response {
				req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
				req.Header.Set("Accept-Encoding", "identity")
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				return resp
			}

			resp := get("/flush")
			br := bufio.NewReader(resp.Body)
			if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
				t.Fatalf("flush: first read = %q, %v", line, err)
			}
			close(release)
			if rest, _ := io.ReadAll(br); string(rest) != "second\n" {
				t.Errorf("flush: rest = %q", rest)
			}
			resp.Body.Close()

			for path, want := range map[string]string{"/hijack": "hijacked", "/deadline": "deadlines"} {
				resp := get(path)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != want {
					t.Errorf("%s: body %q, want %q", path, b, want)
				}
			}
		})
	}
}

// TestPanicThroughStack checks that errors renders its page when the panic
// unwinds through compress and the other wrappers below it, and that an
// HTTP error value is rendered by httpexceptions.
func TestPanicThroughStack(t *testing.T) {
	all := filters(t)
	h := all["stack"](http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/missing" {
			panic(httpexc.NotFound("nothing here"))
		}
		panic(fmt.Sprintf("boom at %s", r.URL.Path))
	}))
	for _, tc := range []struct {
		path, enc string
		status    int
		want      string
	}{
		{"/x", "", 500, "request id"},
		{"/x", "gzip", 500, ""},
		{"/missing", "", 404, "nothing here"},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.enc != "" {
			req.Header.Set("Accept-Encoding", tc.enc)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s (%s): %d %q", tc.path, tc.enc, rec.Code, rec.Body)
		}
		if rec.Header().Get("X-Request-Id") == "" || rec.Header().Get("X-A") != "1" {
			t.Errorf("%s: headers %v", tc.path, rec.Header())
		}
	}
}
