package middleware_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/middleware/accesslog"
	"github.com/gopaste/gopaste/middleware/compress"
	"github.com/gopaste/gopaste/middleware/errorpage"
	"github.com/gopaste/gopaste/middleware/headers"
	"github.com/gopaste/gopaste/middleware/httpexc"
	"github.com/gopaste/gopaste/middleware/proxyfix"
	"github.com/gopaste/gopaste/middleware/requestid"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// setup is what a registered filter needs to build and to let a request
// through to the app. A filter not in [minimal] is built with no keys:
// a new filter is covered by TestPassThrough as soon as it registers, and
// if it needs keys the test fails naming it.
type setup struct {
	keys func(dir string) map[string]string // dir is a temp dir for files
	req  func(r *http.Request)
}

var minimal = map[string]setup{
	"basicauth": {
		keys: func(dir string) map[string]string {
			// "secret", as Debian's htpasswd -nbs writes it.
			p := filepath.Join(dir, "htpasswd")
			if err := os.WriteFile(p, []byte("u:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n"), 0o600); err != nil {
				panic(err)
			}
			return map[string]string{"htpasswd": p}
		},
		req: func(r *http.Request) { r.SetBasicAuth("u", "secret") },
	},
	"cookieauth": {keys: keys("secret", "0123456789abcdef-passthrough")},
	"limit":      {keys: keys("rate", "1000/s", "burst", "1000", "max_concurrency", "100", "max_body_bytes", "1M")},
	"profile":    {keys: keys("key", "k")},
	"proxyfix":   {keys: keys("trusted_proxies", "127.0.0.0/8")},
	"redirect":   {keys: keys("rule 1", "^/nowhere$ /elsewhere")},
	"rewrite":    {keys: keys("rule 1", "^/nowhere$ /elsewhere")},
	"headers":    {keys: keys("preset", "security")},
}

func keys(kv ...string) func(string) map[string]string {
	return func(string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
}

// registered builds every filter registered in registry.Default (the
// builtin set) with its minimal keys, by registry name.
func registered(t *testing.T) map[string]func(http.Handler) http.Handler {
	t.Helper()
	all := map[string]func(http.Handler) http.Handler{}
	for _, p := range registry.Default.Parts(registry.Filter) {
		var local map[string]string
		if s, ok := minimal[p.Name]; ok && s.keys != nil {
			local = s.keys(t.TempDir())
		}
		c := registrytest.Config(registry.Filter, "filter:"+p.Name, filepath.Join(t.TempDir(), "t.ini"), local)
		t.Cleanup(func() {
			for _, cl := range c.Closers() {
				cl.Close()
			}
		})
		f, err := p.Filter(c)
		if err != nil || f == nil {
			t.Errorf("filter %s does not build with keys %v: %v (give it keys in minimal)", p.Name, local, err)
			continue
		}
		all[p.Name] = f
	}
	if len(all) < 17 {
		t.Errorf("%d filters registered, want at least the 17 built in", len(all))
	}
	return all
}

// filters builds the usual family with ordinary options, for the panic
// test's stack.
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

// TestPassThrough checks Flush, Hijack, deadlines and full duplex through
// every registered filter, one at a time and all stacked in registry
// order.
func TestPassThrough(t *testing.T) {
	all := registered(t)
	names := make([]string, 0, len(all))
	for _, p := range registry.Default.Parts(registry.Filter) {
		if _, ok := all[p.Name]; ok {
			names = append(names, p.Name)
		}
	}
	prepare := func(r *http.Request, names ...string) {
		for _, n := range names {
			if s := minimal[n]; s.req != nil {
				s.req(r)
			}
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			checkPassThrough(t, all[name], func(r *http.Request) { prepare(r, name) })
		})
	}
	t.Run("stack", func(t *testing.T) {
		stack := func(h http.Handler) http.Handler {
			for i := len(names) - 1; i >= 0; i-- {
				h = all[names[i]](h)
			}
			return h
		}
		checkPassThrough(t, stack, func(r *http.Request) { prepare(r, names...) })
	})
}

func checkPassThrough(t *testing.T, f func(http.Handler) http.Handler, prepare func(*http.Request)) {
	release := make(chan struct{})
	srv := httptest.NewServer(f(app(t, release)))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	get := func(path string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		req.Header.Set("Accept-Encoding", "identity")
		prepare(req)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Fatalf("GET %s: %s %q, want the app's 200", path, resp.Status, b)
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
