package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/fastcgi"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/proc"
	"github.com/gopaste/gopaste/proxy"
	"github.com/gopaste/gopaste/scgi"
	"github.com/gopaste/gopaste/server"
	"github.com/gopaste/gopaste/uwsgi"
)

// backendEnv names the protocol and address a re-executed test binary
// serves on instead of running tests: a backend the kill -9 test can
// SIGKILL by pid.
const backendEnv = "GOPASTE_PROXY_TEST_BACKEND"

func TestMain(m *testing.M) {
	if spec := os.Getenv(backendEnv); spec != "" {
		serveBackend(spec)
		return
	}
	os.Exit(m.Run())
}

// slowOK reads the body, waits a little (so requests are in flight when
// the backend is killed) and answers "ok".
var slowOK = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	time.Sleep(10 * time.Millisecond)
	io.WriteString(w, "ok")
})

// serveBackend serves slowOK over "http ADDR" or "scgi ADDR" until killed.
func serveBackend(spec string) {
	proto, addr, _ := strings.Cut(spec, " ")
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log := slog.New(slog.DiscardHandler)
	switch proto {
	case "scgi":
		(&scgi.Server{Handler: slowOK, Logger: log}).Serve(l)
	default:
		(&http.Server{Handler: slowOK}).Serve(l)
	}
	os.Exit(0)
}

// startBackend re-executes the test binary (through proc) as a backend
// on a free port and waits until it listens; it is stopped when the test
// ends if it still runs.
func startBackend(t *testing.T, proto string) (*proc.Process, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	p, err := proc.Start(context.Background(), proc.Cmd{
		Path: os.Args[0], Args: []string{os.Args[0], "-test.run=^$"},
		Env:    append(os.Environ(), backendEnv+"="+proto+" "+addr),
		Stdout: io.Discard, Stderr: os.Stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitDial(ctx, "tcp", addr); err != nil {
		t.Fatalf("backend %s: %v", addr, err)
	}
	return p, addr
}

// TestKillBackendUnderLoadIssue12: two backend processes behind http_proxy
// (and scgi_proxy) under a load of GETs and POSTs; one is killed with
// SIGKILL. No GET fails (idempotent requests whose connection broke go to
// the other backend), and the POSTs that fail are those in flight at the
// kill, or sent within one health-check interval after it.
func TestKillBackendUnderLoadIssue12(t *testing.T) {
	const interval = 100 * time.Millisecond
	for _, proto := range []string{"http", "scgi"} {
		t.Run(proto, func(t *testing.T) {
			victim, addr1 := startBackend(t, proto)
			_, addr2 := startBackend(t, proto)
			var o proxy.Options
			for _, a := range []string{addr1, addr2} {
				b, err := proxy.ParseBackend(a)
				if err != nil {
					t.Fatal(err)
				}
				o.Backends = append(o.Backends, b)
			}
			o.Retries, o.HealthCheckInterval, o.Logger = 1, interval, slog.New(slog.DiscardHandler)
			o.ConnectTimeout = time.Second
			if proto == "scgi" {
				o.RequireLength = true
				o.NewTransport = func(b proxy.Backend) http.RoundTripper {
					return &scgi.Transport{Addr: b.Addr, Vars: o.Vars(), DialTimeout: o.ConnectTimeout}
				}
			} else {
				o.Rewrite = proxy.HTTPRewrite
				o.NewTransport = func(b proxy.Backend) http.RoundTripper { return proxy.NewHTTPTransport(b, o) }
			}
			p, err := proxy.New(o)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()

			type result struct {
				method string
				start  time.Time
				code   int
			}
			var (
				mu      sync.Mutex
				results []result
				wg      sync.WaitGroup
			)
			stop := time.Now().Add(1500 * time.Millisecond)
			for i := range 8 {
				method := "GET"
				if i%4 == 3 {
					method = "POST"
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := 0; n < 10000 && time.Now().Before(stop); n++ {
						var body io.Reader
						if method == "POST" {
							body = strings.NewReader("form=data")
						}
						start := time.Now()
						rec := httptest.NewRecorder()
						p.ServeHTTP(rec, httptest.NewRequest(method, "/x", body))
						mu.Lock()
						results = append(results, result{method, start, rec.Code})
						mu.Unlock()
					}
				}()
			}
			time.Sleep(500 * time.Millisecond)
			killAt := time.Now()
			if err := victim.Signal(syscall.SIGKILL); err != nil { // by pid
				t.Fatal(err)
			}
			wg.Wait()

			var gets, posts, failedPosts, after int
			for _, r := range results {
				if r.start.After(killAt) && r.code == 200 {
					after++
				}
				if r.method == "GET" {
					gets++
					if r.code != 200 {
						t.Errorf("GET started %v after the kill: %d", r.start.Sub(killAt), r.code)
					}
					continue
				}
				posts++
				if r.code != 200 {
					failedPosts++
					if r.start.After(killAt.Add(interval)) {
						t.Errorf("POST started %v after the kill failed: %d (later than one health-check interval)", r.start.Sub(killAt), r.code)
					}
				}
			}
			t.Logf("%s: %d GETs, %d POSTs, %d POSTs failed, %d answered after the kill", proto, gets, posts, failedPosts, after)
			if after < 10 {
				t.Errorf("only %d requests answered after the kill", after)
			}
		})
	}
}

// TestHalfClosedClientIssue12: a raw TCP client that sends its request
// and shuts down its writing side (CloseWrite) gets the whole reply from
// gopaste's http server through http_proxy, scgi_proxy, uwsgi_proxy and
// fastcgi_proxy (it got 499 before).
func TestHalfClosedClientIssue12(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // the client's FIN arrives first
		io.WriteString(w, "reply to "+r.URL.Path)
	})
	httpBackend := httptest.NewServer(slow)
	defer httpBackend.Close()
	addrs := map[string]string{"http": strings.TrimPrefix(httpBackend.URL, "http://")}
	for name, s := range map[string]interface {
		Serve(net.Listener) error
		Close() error
	}{
		"scgi":    &scgi.Server{Handler: slow, Logger: log},
		"uwsgi":   &uwsgi.Server{Handler: slow, Logger: log},
		"fastcgi": &fastcgi.Server{Handler: slow, Logger: log},
	} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go s.Serve(l)
		defer s.Close()
		addrs[name] = l.Addr().String()
	}
	cfg := fmt.Sprintf(`[composite:main]
use = urlmap
/http = http_app
/scgi = scgi_app
/uwsgi = uwsgi_app
/fastcgi = fastcgi_app

[app:http_app]
use = http_proxy
backends = %s

[app:scgi_app]
use = scgi_proxy
backends = %s

[app:uwsgi_app]
use = uwsgi_proxy
backends = %s

[app:fastcgi_app]
use = fastcgi_proxy
backends = %s

[server:main]
use = http
host = 127.0.0.1
port = 0
`, addrs["http"], addrs["scgi"], addrs["uwsgi"], addrs["fastcgi"])
	path := filepath.Join(t.TempDir(), "front.ini")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	gen, err := deploy.Load(path, "main", "main", deploy.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	ready := make(chan net.Addr, 1)
	gen.Server.(*server.Server).Ready = func(a net.Addr) { ready <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gen.Server.Run(ctx, gen.Handler) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	var front string
	select {
	case a := <-ready:
		front = a.String()
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}

	for _, name := range []string{"http", "scgi", "uwsgi", "fastcgi"} {
		c, err := net.Dial("tcp", front)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /%s/x HTTP/1.1\r\nHost: front.example\r\n\r\n", name)
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if !bytes.HasPrefix(got, []byte("HTTP/1.1 200 ")) || !bytes.HasSuffix(got, []byte("reply to /x")) {
			t.Errorf("%s_proxy, half-closed client: %v\n%s", name, err, got)
		}
	}
}
