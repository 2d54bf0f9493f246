package scgi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/server"
)

// snippet returns a config snippet from testdata with the documented
// backend address replaced by addr. docs/protocols.md quotes these files;
// TestDocsQuoteSnippets keeps them equal.
func snippet(t *testing.T, name, addr string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "127.0.0.1:4000", addr)
}

func TestDocsQuoteSnippets(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocols.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nginx-scgi.conf", "apache-scgi.conf"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(doc, b) {
			t.Errorf("docs/protocols.md does not quote scgi/testdata/%s verbatim", name)
		}
	}
}

// interopHandler is what nginx reaches through our server.
func interopHandler(release <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Accel-Buffering", "no") // nginx: pass chunks on as they come
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "last\n")
	})
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, "method=%s\nscript=%s\npath=%s\nquery=%s\nhost=%s\nremote_ip=%v\nlen=%d\nclen=%d\nsha256=%s\n",
			r.Method, mount.ScriptName(r.Context()), r.URL.Path, r.URL.RawQuery, r.Host,
			strings.HasPrefix(r.RemoteAddr, "127.0.0.1:"), n, r.ContentLength, hex.EncodeToString(h.Sum(nil)))
		for _, k := range []string{"X-Test", "X-Dup", "X-Long", "X-Under-Score", "Transfer-Encoding"} {
			fmt.Fprintf(w, "%s=%s\n", strings.ToLower(k), strings.Join(r.Header.Values(k), "|"))
		}
	})
	return mux
}

// startSCGIServer runs the scgi server section factory (port 0) serving h.
func startSCGIServer(t *testing.T, h http.Handler) string {
	t.Helper()
	c := registry.NewConfig(registry.ServerKind, "server:main", "t.ini:1", "/tmp/t.ini", nil,
		[]registry.Entry{{Key: "host", Value: "127.0.0.1"}, {Key: "port", Value: "0"}, {Key: "read_timeout", Value: "30"}},
		nil, slog.New(slog.DiscardHandler))
	rs, err := serverFactory(c)
	if err != nil {
		t.Fatal(err)
	}
	srv := rs.(*server.Server)
	addrc := make(chan string, 1)
	srv.Ready = func(a net.Addr) { addrc <- a.String() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server Run: %v", err)
		}
	})
	select {
	case a := <-addrc:
		return a
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	return ""
}

func fields(body string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, map[string]string) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, fields(string(b))
}

func TestNginxToServer(t *testing.T) {
	peer.Require(t, "nginx")
	release := make(chan struct{})
	addr := startSCGIServer(t, interopHandler(release))
	ngx := peer.StartNginx(t, snippet(t, "nginx-scgi.conf", addr))
	client := &http.Client{Timeout: 30 * time.Second}

	t.Run("GET with a query", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ngx.URL("/a%20b/c?x=1&y=%2F&z"), nil)
		req.Host = "example.test"
		res, f := do(t, client, req)
		want := map[string]string{"method": "GET", "script": "", "path": "/a b/c", "query": "x=1&y=%2F&z",
			// nginx sends HTTP_HOST as $host (no port) and the port it
			// listens on as SERVER_PORT; the request's Host joins them.
			"host": fmt.Sprintf("example.test:%d", ngx.Port), "remote_ip": "true", "len": "0", "transfer-encoding": ""}
		for k, v := range want {
			if f[k] != v {
				t.Errorf("%s = %q, want %q", k, f[k], v)
			}
		}
		if res.StatusCode != 200 {
			t.Errorf("status %d", res.StatusCode)
		}
	})

	t.Run("POST 10 MB", func(t *testing.T) {
		body := make([]byte, 10<<20)
		rand.Read(body)
		sum := sha256.Sum256(body)
		req, _ := http.NewRequest("POST", ngx.URL("/upload"), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		_, f := do(t, client, req)
		if f["len"] != strconv.Itoa(len(body)) || f["sha256"] != hex.EncodeToString(sum[:]) {
			t.Errorf("backend got len %s sha %s, want %d %x", f["len"], f["sha256"], len(body), sum)
		}
	})

	t.Run("chunked upload", func(t *testing.T) {
		body := strings.Repeat("chunk of data\n", 10000)
		sum := sha256.Sum256([]byte(body))
		req, _ := http.NewRequest("PUT", ngx.URL("/up"), io.MultiReader(strings.NewReader(body)))
		req.ContentLength = -1
		_, f := do(t, client, req)
		if f["len"] != strconv.Itoa(len(body)) || f["clen"] != f["len"] || f["sha256"] != hex.EncodeToString(sum[:]) {
			t.Errorf("backend got len %s clen %s sha %s, want %d", f["len"], f["clen"], f["sha256"], len(body))
		}
		if f["transfer-encoding"] != "" {
			t.Errorf("handler sees Transfer-Encoding %q; framing must come from CONTENT_LENGTH", f["transfer-encoding"])
		}
	})

	t.Run("streamed response", func(t *testing.T) {
		res, err := client.Get(ngx.URL("/stream"))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		first := make([]byte, len("first\n"))
		if _, err := io.ReadFull(res.Body, first); err != nil || string(first) != "first\n" {
			t.Fatalf("first chunk = %q, %v (before the last was written)", first, err)
		}
		close(release)
		rest, _ := io.ReadAll(res.Body)
		if string(rest) != "last\n" {
			t.Errorf("rest = %q", rest)
		}
	})

	t.Run("1000 keep-alive requests", func(t *testing.T) {
		tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		kc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		reused := 0
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				reused++
			}
		}}
		for i := range 1000 {
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", ngx.URL("/hello"), nil)
			res, err := kc.Do(req)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(b) != "hello" {
				t.Fatalf("request %d: %d %q\n%s", i, res.StatusCode, b, ngx.ErrorLog())
			}
		}
		if reused != 999 {
			t.Errorf("%d of 999 requests reused the client connection", reused)
		}
	})

	t.Run("odd header values", func(t *testing.T) {
		odd := "a \"quoted\" value; with=equals, commas\tand a tab, caf\xc3\xa9 \xff"
		long := strings.Repeat("x", 3000)
		req, _ := http.NewRequest("GET", ngx.URL("/odd"), nil)
		req.Header.Set("X-Test", odd)
		req.Header.Add("X-Dup", "one")
		req.Header.Add("X-Dup", "two")
		req.Header.Set("X-Long", long)
		req.Header["X-Under_score"] = []string{"spoof"}
		_, f := do(t, client, req)
		if f["x-test"] != odd {
			t.Errorf("X-Test = %q, want %q", f["x-test"], odd)
		}
		if f["x-dup"] != "one|two" && f["x-dup"] != "one, two" {
			t.Errorf("X-Dup = %q, want both values", f["x-dup"])
		}
		if f["x-long"] != long {
			t.Errorf("X-Long has %d bytes, want %d", len(f["x-long"]), len(long))
		}
		if f["x-under-score"] != "" {
			t.Errorf("X-Under_score arrived as X-Under-Score = %q", f["x-under-score"])
		}
	})
}

// scgiProxy builds the scgi_proxy app for backends.
func scgiProxy(t *testing.T, backends string) http.Handler {
	t.Helper()
	c := registry.NewConfig(registry.App, "app:p", "t.ini:1", "/tmp/t.ini", nil,
		[]registry.Entry{{Key: "backends", Value: backends}, {Key: "timeout", Value: "30"}}, nil,
		slog.New(slog.NewTextHandler(tWriter{t}, nil)))
	h, err := proxyFactory(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, cl := range c.Closers() {
			cl.Close()
		}
	})
	return h
}

// checkBackend runs the same requests through scgi_proxy to an echoing
// backend that prints CGI variables.
func checkBackend(t *testing.T, h http.Handler, backend string) {
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/app/") {
			r = mount.Shift(r, "/app")
		}
		h.ServeHTTP(w, r)
	}))
	defer front.Close()
	client := &http.Client{Timeout: 30 * time.Second}

	req, _ := http.NewRequest("GET", front.URL+"/app/some/path?x=1&y=2", nil)
	req.Header.Set("X-Test", "odd \"value\"; é")
	req.Header.Set("Proxy", "http://evil.example/")
	res, f := do(t, client, req)
	want := map[string]string{"method": "GET", "script": "/app", "path": "/some/path", "query": "x=1&y=2",
		"x-test": "odd \"value\"; é", "len": "0"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s: %s = %q, want %q", backend, k, f[k], v)
		}
	}
	if v, ok := f["proxy"]; ok && v != "" {
		t.Errorf("%s: HTTP_PROXY = %q reached the backend (httpoxy)", backend, v)
	}
	if res.StatusCode != 200 || res.Header.Get("X-Backend") != backend {
		t.Errorf("status %d, X-Backend %q, want 200 %s", res.StatusCode, res.Header.Get("X-Backend"), backend)
	}

	body := make([]byte, 1<<20+13)
	rand.Read(body)
	sum := sha256.Sum256(body)
	req, _ = http.NewRequest("POST", front.URL+"/app/post", bytes.NewReader(body))
	_, f = do(t, client, req)
	if f["len"] != strconv.Itoa(len(body)) || f["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("%s: POST body len %s sha %s, want %d %x", backend, f["len"], f["sha256"], len(body), sum)
	}

	chunk := strings.Repeat("z", 70000)
	csum := sha256.Sum256([]byte(chunk))
	req, _ = http.NewRequest("POST", front.URL+"/app/chunked", io.MultiReader(strings.NewReader(chunk)))
	req.ContentLength = -1
	_, f = do(t, client, req)
	if f["len"] != strconv.Itoa(len(chunk)) || f["sha256"] != hex.EncodeToString(csum[:]) {
		t.Errorf("%s: chunked body (spooled) len %s, want %d", backend, f["len"], len(chunk))
	}
}

func TestTransportToUWSGI(t *testing.T) {
	peer.Require(t, "uwsgi")
	if _, err := os.Stat("/usr/lib/uwsgi/plugins/python3_plugin.so"); err != nil {
		peer.Missing(t, "uwsgi python3 plugin (uwsgi-plugin-python3)")
	}
	app, _ := filepath.Abs("testdata/app.py")
	addr := "127.0.0.1:" + strconv.Itoa(peer.FreePort(t))
	p := peer.StartUWSGI(t, "--plugin", "python3", "--master", "--processes", "1",
		"--scgi-socket", addr, "--wsgi-file", app, "--buffer-size", "32768", "--disable-logging")
	p.WaitDial(t, "tcp", addr)
	checkBackend(t, scgiProxy(t, addr), "uwsgi")
}

func TestTransportToPerlSCGI(t *testing.T) {
	perl := peer.Require(t, "perl")
	if err := exec.Command(perl, "-MSCGI", "-e", "1").Run(); err != nil {
		peer.Missing(t, "Perl SCGI module (libscgi-perl)")
	}
	script, _ := filepath.Abs("testdata/echo.pl")
	port := peer.FreePort(t)
	p := peer.Start(t, peer.StartOptions{}, perl, script, strconv.Itoa(port))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p.WaitDial(t, "tcp", addr)
	checkBackend(t, scgiProxy(t, addr), "perl")
	if t.Failed() {
		t.Logf("perl output:\n%s", p.Output())
	}
}

// tWriter sends log lines to t.Log, shown when a test fails.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func TestApacheToServer(t *testing.T) {
	peer.Require(t, "apache2")
	addr := startSCGIServer(t, interopHandler(nil))
	ap := peer.StartApache(t, snippet(t, "apache-scgi.conf", addr))
	client := &http.Client{Timeout: 30 * time.Second}

	req, _ := http.NewRequest("GET", ap.URL("/a%20b/c?x=1&y=%2F"), nil)
	req.Header.Set("X-Test", "odd \"value\"; é")
	res, f := do(t, client, req)
	want := map[string]string{"method": "GET", "script": "", "path": "/a b/c", "query": "x=1&y=%2F",
		"x-test": "odd \"value\"; é", "len": "0"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %q, want %q", k, f[k], v)
		}
	}
	if res.StatusCode != 200 {
		t.Errorf("status %d\n%s", res.StatusCode, ap.ErrorLog())
	}

	body := make([]byte, 3<<20)
	rand.Read(body)
	sum := sha256.Sum256(body)
	req, _ = http.NewRequest("POST", ap.URL("/upload"), bytes.NewReader(body))
	_, f = do(t, client, req)
	if f["len"] != strconv.Itoa(len(body)) || f["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("POST: backend got len %s sha %s, want %d %x", f["len"], f["sha256"], len(body), sum)
	}

	// Apache reads only CGI-style Status replies over SCGI: a 404 from
	// the app must come back as a 404.
	for path, status := range map[string]int{"/hello": 200, "/missing": 404} {
		res, err := client.Get(ap.URL(path))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != status {
			t.Errorf("GET %s = %d, want %d\n%s", path, res.StatusCode, status, ap.ErrorLog())
		}
	}
}
