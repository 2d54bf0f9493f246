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
	"github.com/gopaste/gopaste/scgi"
	"github.com/gopaste/gopaste/server"
	"github.com/gopaste/gopaste/uwsgi"
)

// TestAutoServesEveryProtocol runs one "protocol = auto" listener and
// talks HTTP, SCGI, uwsgi and FastCGI to it with gopaste's own clients:
// each request reaches the env app with the same variables.
func TestAutoServesEveryProtocol(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	s := &server.Server{
		Options: server.Options{Protocol: "auto", GracefulTimeout: 5 * time.Second},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready:   func(a net.Addr) { addrc <- a.String() },
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, &env.Handler{}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr := <-addrc

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
