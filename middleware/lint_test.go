package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gopaste/gopaste/middleware/httpexc"
	"github.com/gopaste/gopaste/middleware/lint"
)

// TestStackUnderLint runs the whole stack, with the responses it makes on
// its own (error pages, HTTP errors, compressed bodies), under lint: the
// stack must keep the handler contract whatever the app does.
func TestStackUnderLint(t *testing.T) {
	var mu sync.Mutex
	var found []string
	l := lint.New(lint.Options{Report: func(r *http.Request, v lint.Violation) {
		mu.Lock()
		defer mu.Unlock()
		found = append(found, r.Method+" "+r.URL.Path+": "+v.Message)
	}})
	big := strings.Repeat("compress me ", 1000)
	h := l(filters(t)["stack"](http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hello":
			w.Header().Set("Content-Type", "text/plain")
			if r.Method != "HEAD" {
				w.Write([]byte("Hello, World!"))
			}
		case "/big":
			w.Header().Set("Content-Type", "text/plain")
			if r.Method != "HEAD" {
				w.Write([]byte(big))
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/missing":
			panic(httpexc.NotFound(""))
		case "/redirect":
			panic(httpexc.Redirect("/hello", http.StatusSeeOther))
		default:
			w.Header().Set("Content-Length", "5")
			panic("boom")
		}
	})))
	for _, path := range []string{"/hello", "/big", "/empty", "/missing", "/redirect", "/panic"} {
		for _, method := range []string{"GET", "HEAD"} {
			for _, enc := range []string{"", "gzip", "zstd"} {
				req := httptest.NewRequest(method, path, nil)
				if enc != "" {
					req.Header.Set("Accept-Encoding", enc)
				}
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		}
	}
	for _, f := range found {
		t.Error(f)
	}
}
