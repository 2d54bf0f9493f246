package fastcgi

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/server"
	"github.com/gopaste/gopaste/uwsgi"
)

// TestAutoProtocol serves one port with protocol = auto and reaches it
// over FastCGI, uwsgi and HTTP.
func TestAutoProtocol(t *testing.T) {
	ready := make(chan net.Addr, 1)
	s := &server.Server{
		Options: server.Options{Protocol: "auto", Listen: server.ListenConfig{Host: "127.0.0.1"}, GracefulTimeout: 5 * time.Second},
		Logger:  quiet(),
		Ready:   func(a net.Addr) { ready <- a },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello "+r.URL.Path)
		}))
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	var addr string
	select {
	case a := <-ready:
		addr = a.String()
	case err := <-done:
		t.Fatalf("Run = %v", err)
	}
	for name, rt := range map[string]http.RoundTripper{
		"fastcgi": &Transport{Addr: addr, Logger: quiet()},
		"uwsgi":   &uwsgi.Transport{Addr: addr},
		"http":    &http.Transport{},
	} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/"+name, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello /"+name {
			t.Errorf("%s: %q", name, b)
		}
		if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
}

func TestServerMismatchLogged(t *testing.T) {
	var logs logbuf.Buffer
	_, addr := startServer(t, http.HandlerFunc(echoHandler), func(s *Server) { s.Logger = newTextLogger(&logs) })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c)
	c.Close()
	if len(b) != 0 {
		t.Errorf("reply %q, want a close", b)
	}
	if !strings.Contains(logs.String(), "received an HTTP request on a FastCGI socket") {
		t.Errorf("log = %q", logs.String())
	}
}
