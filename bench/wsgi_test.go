package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/uwsgi"
)

// TestWSGIScenarios: in each WSGI scenario gopaste's config passes
// gopaste check (which imports the application in its workers), and
// every Python server starts on the scenario's files and answers the
// same page, so that the comparison is of servers, not of applications.
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
				res, err := client.Get("http://" + s.addr() + "/")
				if err != nil {
					t.Errorf("%s: %v\n%s", sys.Name, err, s.p.log.tail(2000))
				} else {
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != 200 || !strings.Contains(string(b), "Hello") {
						t.Errorf("%s: GET / = %d %q", sys.Name, res.StatusCode, b)
					}
				}
				s.stop()
			}
		})
	}
}
