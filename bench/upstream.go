package main

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"syscall"
	"time"
)

// benchTools are the helper programs under bench/ that the harness builds
// into {{.Bin}}: the net/http hello world, its FastCGI twin, a uwsgi
// worker for the process app and the proxies' floor.
var benchTools = []string{"hellosrv", "fcgisrv", "uwsgiworker", "floorsrv"}

// startInstances starts sys.Instances copies of an upstream (at least
// one), each on its own port, chained through up so that stopping,
// measuring and checking the first covers them all.
func (r *runner) startInstances(sys System, role string, d tmplData) (*started, error) {
	n := max(1, sys.Instances)
	var first, last *started
	for i := 0; i < n; i++ {
		name := role
		if n > 1 {
			name = fmt.Sprintf("%s%d", role, i+1)
		}
		s, err := r.startUpstream(sys, name, d)
		if err != nil {
			first.stop()
			return nil, err
		}
		if first == nil {
			first = s
		} else {
			last.up = s
			first.config = joinConfigs(first.config, s)
		}
		last = s
	}
	return first, nil
}

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

// reloader rewrites a system's config and sends it SIGHUP every
// sys.Reload until stopped.
type reloader struct {
	done chan struct{}
	out  chan reloadCount
}

type reloadCount struct {
	n   int
	err error
}

// startReloads starts the reloads of a system with Reload; for any other
// it returns a reloader that does nothing.
func (s *started) startReloads() *reloader {
	if s.sys.Reload <= 0 || s.file == "" {
		return nil
	}
	rl := &reloader{done: make(chan struct{}), out: make(chan reloadCount, 1)}
	go func() {
		t := time.NewTicker(s.sys.Reload)
		defer t.Stop()
		var c reloadCount
		for c.err == nil {
			select {
			case <-rl.done:
				rl.out <- c
				return
			case <-t.C:
			}
			s.data.Gen++
			c.err = s.reload()
			if c.err == nil {
				c.n++
			}
		}
		<-rl.done
		rl.out <- c
	}()
	return rl
}

// reload writes the system's config rendered with s.data and sends the
// gopaste process SIGHUP.
func (s *started) reload() error {
	config, err := s.sys.gopasteConfig(s.data)
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.file, []byte(config), 0o644); err != nil {
		return err
	}
	if err := syscall.Kill(s.p.pid(), syscall.SIGHUP); err != nil {
		return fmt.Errorf("%s: reload: %w", s.sys.Name, err)
	}
	return nil
}

// stop ends the reloads and says how many were sent.
func (rl *reloader) stop() (int, error) {
	if rl == nil {
		return 0, nil
	}
	close(rl.done)
	c := <-rl.out
	return c.n, c.err
}

// procMem is the RSS of each of the system's processes (not its
// upstream's), the one the harness started first.
func (s *started) procMem() []ProcMem {
	var out []ProcMem
	stats := groupStats(s.p.pid())
	for pid := range stats {
		role := "worker"
		if pid == s.p.pid() {
			role = "master"
		}
		if rss, _, err := memStatus(pid); err == nil {
			out = append(out, ProcMem{PID: pid, Role: role, IdleRSS: rss})
		}
	}
	slices.SortFunc(out, func(a, b ProcMem) int {
		if (a.Role == "master") != (b.Role == "master") {
			if a.Role == "master" {
				return -1
			}
			return 1
		}
		return a.PID - b.PID
	})
	return out
}
