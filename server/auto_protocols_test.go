package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/apps/env"
	"github.com/gopaste/gopaste/fastcgi"
	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/scgi"
	"github.com/gopaste/gopaste/server"
	"github.com/gopaste/gopaste/uwsgi"
)

// TestAutoServesEveryProtocol runs one "protocol = auto" listener and
// talks HTTP, SCGI, uwsgi and FastCGI to it with gopaste's own clients:
// each request reaches the env app with the same variables.
func TestAutoServesEveryProtocol(t *testing.T) {
	addr := runAuto(t, nil, &env.Handler{})

	clients := map[string]http.RoundTripper{
		"http":    &http.Transport{},
		"scgi":    &scgi.Transport{Addr: addr},
		"uwsgi":   &uwsgi.Transport{Addr: addr},
		"fastcgi": &fastcgi.Transport{Addr: addr, MaxConns: 2},
	}
	for name, rt := range clients {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", "http://"+addr+"/some/path?q=1", strings.NewReader("payload"))
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("X-Probe", name)
			resp, err := (&http.Client{Transport: rt, Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatalf("status %d, not JSON: %v", resp.StatusCode, err)
			}
			for k, v := range map[string]string{"REQUEST_METHOD": "POST", "PATH_INFO": "/some/path", "QUERY_STRING": "q=1", "body": "payload", "HTTP_X_PROBE": name, "CONTENT_TYPE": "text/plain"} {
				if got[k] != v {
					t.Errorf("%s = %v, want %q", k, got[k], v)
				}
			}
		})
	}
	if c, ok := clients["fastcgi"].(io.Closer); ok {
		c.Close()
	}
}

// TestProtocolsSniff: the protocols registered by server (http), scgi,
// uwsgi and fastcgi claim their own first bytes, in their order, and a
// server of one names another in words.
func TestProtocolsSniff(t *testing.T) {
	for in, want := range map[string]string{
		"GET / HTTP/1.1": "http", "PRI * HTTP/2.0": "http", "\x16\x03\x01": "http",
		"70:CONTENT_LENGTH": "scgi", "\x01\x01\x00\x01": "fastcgi", "\x01\x09\x00\x00": "fastcgi",
		"\x00\x10\x00\x00": "uwsgi", "\x05\x00\x00\x00": "uwsgi", "": "",
	} {
		if got := registry.Detect([]byte(in)); got != want {
			t.Errorf("Detect(%q) = %q, want %q", in, got, want)
		}
	}
	var names []string
	for _, p := range registry.Default.Protocols() {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "http scgi fastcgi uwsgi" {
		t.Errorf("sniffing order %q, want uwsgi, which takes anything, last", got)
	}
	for _, c := range []struct{ want, in, msg string }{
		{"uwsgi", "GET / HTTP/1.1", "received an HTTP request on a uwsgi socket"},
		{"http", "70:CONTENT_LENGTH", "received an SCGI request on an HTTP socket"},
		{"scgi", "\x01\x01\x00\x01", "received a FastCGI request on an SCGI socket"},
		{"fastcgi", "\x00\x10\x00\x00", "received a uwsgi request on a FastCGI socket"},
		{"scgi", "12:", ""},
		{"http", "\x16\x03\x01", ""},
	} {
		if got := registry.Mismatch(c.want, []byte(c.in)); got != c.msg {
			t.Errorf("Mismatch(%q, %q) = %q, want %q", c.want, c.in, got, c.msg)
		}
	}
}

// TestIsolatedRegistryProtocols: a server and its section find their
// protocols in the registry they are given, not in registry.Default.
func TestIsolatedRegistryProtocols(t *testing.T) {
	r := registry.New()
	err := r.AddProtocol("plain", registry.Protocol{
		New: func(h http.Handler, o registry.ProtocolOptions, _ *slog.Logger) (registry.Serving, error) {
			return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, nil
		},
		Sniff: func(b []byte) bool { return b[0] == 'G' },
	}, "GET only")
	if err != nil {
		t.Fatal(err)
	}

	c := registry.NewConfig(registry.ServerKind, "server:main", "t.ini:1", "t.ini", nil,
		[]registry.Entry{{Key: "protocol", Value: "scgi", Origin: "t.ini:2"}}, nil, nil)
	c.Registry = r
	server.ReadOptions(c, "plain", 0)
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), `unknown protocol "scgi" (known: plain, auto)`) {
		t.Errorf("scgi of registry.Default accepted by a section of another registry: %v", err)
	}

	addr := runAuto(t, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") }))
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "plain" {
		t.Errorf("GET answered %q", b)
	}
	// SCGI is registered in registry.Default only: the listener closes it.
	_, err = (&http.Client{Transport: &scgi.Transport{Addr: addr}, Timeout: 5 * time.Second}).Get("http://" + addr + "/")
	if err == nil {
		t.Error("an SCGI request was served by a server whose registry has no scgi")
	}
}

// runAuto serves h on a "protocol = auto" listener with the protocols of
// reg (nil: registry.Default) until the test ends, and returns its
// address.
func runAuto(t *testing.T, reg *registry.Registry, h http.Handler) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	s := &server.Server{
		Options:  server.Options{Protocol: "auto", GracefulTimeout: 5 * time.Second},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready:    func(a net.Addr) { addrc <- a.String() },
		Registry: reg,
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case addr := <-addrc:
		return addr
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("Run ended before listening: %v", err)
		return ""
	}
}
