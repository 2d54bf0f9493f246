package main

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/fastcgi"
	"github.com/gopaste/gopaste/scgi"
	"github.com/gopaste/gopaste/uwsgi"
)

// TestPreforkGatewayProtocols: the scgi, uwsgi and fastcgi servers take
// concurrency = prefork too; requests through each protocol's client
// keep being answered while workers recycle every 20 requests.
func TestPreforkGatewayProtocols(t *testing.T) {
	for _, tc := range []struct {
		server    string
		transport func(addr string) http.RoundTripper
	}{
		{"scgi", func(addr string) http.RoundTripper { return &scgi.Transport{Addr: addr} }},
		{"uwsgi", func(addr string) http.RoundTripper { return &uwsgi.Transport{Addr: addr} }},
		// A pooled FastCGI connection that a draining worker closes
		// while the client sends on it fails: FastCGI has no way to
		// announce the close, and fastcgi.Transport does not retry on
		// another connection (as net/http's client does for HTTP).
		{"fastcgi", func(addr string) http.RoundTripper { return &fastcgi.Transport{Addr: addr, NoKeepConn: true} }},
	} {
		t.Run(tc.server, func(t *testing.T) {
			cfg := writeConfig(t, t.TempDir(), "[app:main]\nuse = text\nbody = hello\n\n[server:main]\nuse = "+tc.server+
				"\nport = 0\nconcurrency = prefork\nworkers = 2\nmax_requests = 20\n")
			s := serve(t, cfg)
			waitForLogCount(t, s, `msg="worker ready"`, 2)
			c := &http.Client{Transport: tc.transport(s.addr)}
			var mu sync.Mutex
			var failed []string
			requests := 0
			get := func() {
				resp, err := c.Get("http://gopaste.test/")
				var b []byte
				if err == nil {
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				requests++
				if err != nil || resp.StatusCode != 200 || string(b) != "hello" {
					failed = append(failed, strings.TrimSpace(err2str(err)+" "+string(b)))
				}
				mu.Unlock()
			}
			var wg sync.WaitGroup
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 60 {
						get()
					}
				}()
			}
			wg.Wait()
			// The supervisor logs a recycle when it reads the worker's
			// request from the control pipe, after the worker already
			// answered: wait (bounded) for the lines instead of counting
			// them at once. Requests keep coming meanwhile (and must be
			// answered), so a worker that took few of the 180 still
			// reaches max_requests however the kernel spread them.
			retired := 0
			for deadline := time.Now().Add(10 * time.Second); ; {
				if retired = strings.Count(s.logs.String(), `msg="recycling worker"`); retired >= 2 || time.Now().After(deadline) {
					break
				}
				get()
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("%s: %d requests, %d failed, %d workers recycled", tc.server, requests, len(failed), retired)
			if len(failed) > 0 {
				t.Errorf("%d of %d failed: %q", len(failed), requests, failed[:min(len(failed), 5)])
			}
			if retired < 2 {
				t.Errorf("%d workers recycled, want at least 2\n%s", retired, s.logs)
			}
			s.cmd.Process.Signal(syscall.SIGTERM)
			waitExit(t, s)
		})
	}
}

func err2str(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
