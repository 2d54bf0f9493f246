package main

import (
	"fmt"
	"net/url"
)

// benchTools are the helper programs under bench/ that the harness builds
// into {{.Bin}}: the net/http hello world and its FastCGI twin.
var benchTools = []string{"hellosrv", "fcgisrv"}

// startUpstream starts a system that speaks something other than HTTP (a
// gopaste uwsgi server, uWSGI, net/http/fcgi) and waits until its port
// accepts connections; the front system's readiness check then proves
// the whole chain answers.
func (r *runner) startUpstream(sys System, role string, d tmplData) (*started, error) {
	s, err := r.start(sys, role, d, "/")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sys.Name, err)
	}
	if err := s.p.waitListen(s.addr(), readyTimeout); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// addr is the system's host:port.
func (s *started) addr() string {
	u, err := url.Parse(s.url)
	if err != nil {
		return ""
	}
	return u.Host
}

// stop ends the system and then its upstream.
func (s *started) stop() {
	if s == nil {
		return
	}
	s.p.stop()
	s.up.stop()
}

// pgids are the process groups of the system and its upstreams.
func (s *started) pgids() []int {
	var out []int
	for ; s != nil; s = s.up {
		out = append(out, s.p.pid())
	}
	return out
}

// rss is the resident memory of the system and its upstreams.
func (s *started) rss() int64 {
	var sum int64
	for _, g := range s.pgids() {
		sum += groupRSS(g)
	}
	return sum
}

// alive says which process of the system has exited, if one has.
func (s *started) alive() error {
	for u := s; u != nil; u = u.up {
		if u.p.exited() {
			return fmt.Errorf("%s exited during the run: %s", u.sys.Name, u.p.log.tail(600))
		}
	}
	return nil
}

// joinConfigs records both configs of a front and its upstream.
func joinConfigs(front string, up *started) string {
	if up.config == "" {
		return front
	}
	return front + "\n# upstream " + up.sys.Name + ":\n" + up.config
}
