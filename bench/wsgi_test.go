package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/uwsgi"
)

// TestWSGIScenarios: in each WSGI scenario gopaste's config passes
// gopaste check (which imports the application in its workers), and
// every Python server starts on the scenario's files and answers the
// same page, so that the comparison is of servers, not of applications;
// a server run with keep-alive (uWSGI --http-keepalive, gunicorn
// gthread) keeps the connection for a second request.
func TestWSGIScenarios(t *testing.T) {
	peer.RequirePython(t, "flask")
	peer.Require(t, "gunicorn")
	peer.Require(t, "uwsgi")
	for _, sc := range wsgiScenarios {
		t.Run(sc.Name, func(t *testing.T) {
			r := &runner{tmp: t.TempDir()}
			d, err := r.prepare(sc)
			if err != nil {
				t.Fatal(err)
			}
			config, err := sc.A.gopasteConfig(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkGopaste(t, d.Dir, "a", config); err != nil {
				t.Errorf("gopaste check: %v\n%s", err, config)
			}
			for _, sys := range sc.systems()[1:] {
				if sys.Gopaste != "" {
					continue // gopaste again (GOMAXPROCS = CPUs): its config is A's, checked above
				}
				client := &http.Client{Timeout: 10 * time.Second}
				if sys.Upstream != nil {
					sys = *sys.Upstream // uWSGI's uwsgi socket, behind nginx
				}
				s, err := r.startUpstream(sys, "x", d)
				if err != nil {
					t.Errorf("%s: %v", sys.Name, err)
					continue
				}
				if strings.Contains(strings.Join(sys.Command, " "), "--socket") {
					client.Transport = &uwsgi.Transport{Addr: s.addr()}
				}
				cmd := strings.Join(sys.Command, " ")
				for i := range 2 {
					var reused bool
					trace := &httptrace.ClientTrace{GotConn: func(c httptrace.GotConnInfo) { reused = c.Reused }}
					req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+s.addr()+"/", nil)
					res, err := client.Do(req)
					if err != nil {
						t.Errorf("%s: %v\n%s", sys.Name, err, s.p.log.tail(2000))
						break
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != 200 || !strings.Contains(string(b), "Hello") {
						t.Errorf("%s: GET / = %d %q", sys.Name, res.StatusCode, b)
					}
					if keeps := strings.Contains(cmd, "--http-keepalive") || strings.Contains(cmd, "gthread"); i == 1 && keeps && !reused {
						t.Errorf("%s: the second request did not reuse the connection (Content-Length %d, %q)", sys.Name, res.ContentLength, res.TransferEncoding)
					}
				}
				s.stop()
			}
		})
	}
}
