package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	child "github.com/gopaste/gopaste/proc"
)

// proc is one system under test: a process and its children, in their own
// process group so that they stop together.
type proc struct {
	name    string
	p       *child.Process
	log     *lineLog
	started time.Time
}

// startProc starts argv in its own process group, with its output kept
// in memory (the last 64 KiB) and scanned for "addr=HOST:PORT". stop is
// what stop sends first; 0 means SIGTERM.
func startProc(name string, argv []string, dir string, env []string, stop syscall.Signal) (*proc, error) {
	l := newLineLog()
	started := time.Now()
	p, err := child.Start(context.Background(), child.Cmd{
		Path: argv[0], Args: argv, Dir: dir, Env: append(os.Environ(), env...),
		Stdout: l, Stderr: l, StopSignal: stop,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &proc{name: name, p: p, log: l, started: started}, nil
}

func (p *proc) pid() int { return p.p.Pid() }

func (p *proc) exited() bool {
	select {
	case <-p.p.Done():
		return true
	default:
		return false
	}
}

// waitErr is how the process ended; it waits for that.
func (p *proc) waitErr() error { return p.p.Err() }

// stop ends the process group: its stop signal, then SIGKILL after 5 s.
func (p *proc) stop() {
	if p != nil {
		p.p.Stop()
	}
}

// waitListen waits until addr accepts a connection; it fails when the
// process exits first or timeout passes.
func (p *proc) waitListen(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.p.WaitDial(ctx, "tcp", addr); err != nil {
		return fmt.Errorf("%s: %w: %s", p.name, err, p.log.tail(600))
	}
	return nil
}

// waitAddr waits for the process to log "addr=HOST:PORT" and returns it.
func (p *proc) waitAddr(timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-p.log.addr:
		return a, nil
	case <-p.p.Done():
		return "", fmt.Errorf("%s exited before listening (%v): %s", p.name, p.waitErr(), p.log.tail(600))
	case <-t.C:
		return "", fmt.Errorf("%s logged no addr=HOST:PORT within %v: %s", p.name, timeout, p.log.tail(600))
	}
}

// waitReady polls url until it answers 200, the process exits, or timeout
// passes. It polls every interval.
func (p *proc) waitReady(url string, timeout, interval time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited (%v): %s", p.name, p.waitErr(), p.log.tail(600))
		}
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
		} else {
			last = err
		}
		time.Sleep(interval)
	}
	return fmt.Errorf("%s did not answer 200 within %v (%v): %s", p.name, timeout, last, p.log.tail(600))
}

var addrRE = regexp.MustCompile(`addr=([0-9a-fA-F.:\[\]]+:[0-9]+)`)

// lineLog keeps the last output of a process and reports the first
// "addr=" it sees. It is safe for concurrent use.
type lineLog struct {
	mu      sync.Mutex
	buf     []byte
	partial []byte
	found   bool
	addr    chan string
}

func newLineLog() *lineLog { return &lineLog{addr: make(chan string, 1)} }

const lineLogMax = 64 << 10

func (l *lineLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	if len(l.buf) > lineLogMax {
		l.buf = append(l.buf[:0], l.buf[len(l.buf)-lineLogMax/2:]...)
	}
	if !l.found {
		l.partial = append(l.partial, b...)
		for {
			i := bytes.IndexByte(l.partial, '\n')
			if i < 0 {
				break
			}
			if m := addrRE.FindSubmatch(l.partial[:i]); m != nil {
				l.found = true
				l.addr <- string(m[1])
				l.partial = nil
				break
			}
			l.partial = l.partial[i+1:]
		}
		if len(l.partial) > 4096 {
			l.partial = nil
		}
	}
	return len(b), nil
}

func (l *lineLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return tail(string(l.buf), n)
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before ours binds it; the start then fails with a clear error.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Memory of a process group, from /proc.

// groupPIDs lists the processes whose process group is pgid, and their
// descendants.
func groupPIDs(pgid int) []int {
	var pids []int
	for pid := range groupStats(pgid) {
		pids = append(pids, pid)
	}
	return pids
}

// groupStats reads /proc/PID/stat of every process of the groups and of
// their descendants, which may have made groups of their own (prefork
// workers, the process app's workers).
func groupStats(pgids ...int) map[int]string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	all := map[int]string{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			all[pid] = string(b)
		}
	}
	out := map[int]string{}
	for pid, stat := range all {
		// Walk up the parents (bounded: pid 1 is everyone's ancestor,
		// and a cycle cannot happen but costs nothing to stop).
		for p, st, n := pid, stat, 0; st != "" && n < 64; n++ {
			if g, ok := statPGRP(st); ok && slices.Contains(pgids, g) {
				out[pid] = stat
				break
			}
			pp, ok := statPPID(st)
			if !ok || pp <= 1 || pp == p {
				break
			}
			p, st = pp, all[pp]
		}
	}
	return out
}

// statPPID reads the parent's pid from a /proc/PID/stat line.
func statPPID(stat string) (int, bool) {
	f := statFields(stat)
	if len(f) < 2 {
		return 0, false
	}
	p, err := strconv.Atoi(f[1])
	return p, err == nil
}

// statFields are the fields of a /proc/PID/stat line after the command
// name, which is in parentheses and may hold spaces and parentheses
// itself: state ppid pgrp session tty_nr tpgid flags minflt cminflt
// majflt cmajflt utime stime ...
func statFields(stat string) []string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(stat[i+1:])
}

// statPGRP reads the process group from a /proc/PID/stat line.
func statPGRP(stat string) (int, bool) {
	f := statFields(stat)
	if len(f) < 3 {
		return 0, false
	}
	g, err := strconv.Atoi(f[2])
	return g, err == nil
}

// statCPU reads utime+stime, in clock ticks, from a /proc/PID/stat line.
func statCPU(stat string) (int64, bool) {
	f := statFields(stat)
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || u < 0 || s < 0 {
		return 0, false
	}
	return u + s, true
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ), 100 per
// second on every architecture Linux and Go share.
const clockTick = 10 * time.Millisecond

// cpuSample is the CPU time each process of some groups has used so far,
// in clock ticks, by pid.
type cpuSample map[int]int64

// sampleCPU reads the CPU time of every process of the groups.
func sampleCPU(pgids ...int) cpuSample {
	s := cpuSample{}
	for pid, stat := range groupStats(pgids...) {
		if t, ok := statCPU(stat); ok {
			s[pid] = t
		}
	}
	return s
}

// since is the CPU time used between before and s. A process that
// started in between counts from zero; the time of one that exited in
// between is lost (the systems measured keep their processes).
func (s cpuSample) since(before cpuSample) time.Duration {
	var ticks int64
	for pid, t := range s {
		if d := t - before[pid]; d > 0 {
			ticks += d
		}
	}
	return time.Duration(ticks) * clockTick
}

// perRequest is d divided among n requests, in µs; 0 for no requests.
func perRequest(d time.Duration, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d) / float64(time.Microsecond) / float64(n)
}

// memStatus reads VmRSS and VmHWM (in bytes) from /proc/PID/status.
func memStatus(pid int) (rss, hwm int64, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return parseMemStatus(f)
}

func parseMemStatus(r io.Reader) (rss, hwm int64, err error) {
	sc := bufio.NewScanner(r)
	var haveRSS bool
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, haveRSS = n<<10, true
		case "VmHWM:":
			hwm = n << 10
		}
	}
	if !haveRSS {
		return 0, 0, errors.New("no VmRSS line")
	}
	return rss, hwm, sc.Err()
}

// groupRSS is the resident memory of the group now, summed over processes.
func groupRSS(pgid int) int64 {
	var sum int64
	for _, pid := range groupPIDs(pgid) {
		if rss, _, err := memStatus(pid); err == nil {
			sum += rss
		}
	}
	return sum
}

// hwmSampler polls the group's VmHWM while a run goes on, so that a
// process that exits during it is still counted.
type hwmSampler struct {
	pgids []int
	mu    sync.Mutex
	hwm   map[int]int64
	stop  chan struct{}
	done  chan struct{}
}

func startHWMSampler(pgids ...int) *hwmSampler {
	s := &hwmSampler{pgids: pgids, hwm: map[int]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *hwmSampler) sample() {
	for _, pgid := range s.pgids {
		for _, pid := range groupPIDs(pgid) {
			if _, hwm, err := memStatus(pid); err == nil {
				s.mu.Lock()
				if hwm > s.hwm[pid] {
					s.hwm[pid] = hwm
				}
				s.mu.Unlock()
			}
		}
	}
}

// peak stops the sampler and returns the sum of each process's VmHWM.
func (s *hwmSampler) peak() int64 {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	for _, v := range s.hwm {
		sum += v
	}
	return sum
}

// loadRequests sends n GET requests to url over conc keep-alive
// connections and returns how many did not answer 2xx or 3xx.
func loadRequests(ctx context.Context, url string, n, conc int) (bad int64, err error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var next, badN int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= int64(n) || firstErr != nil || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 400 {
					mu.Lock()
					badN++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return badN, firstErr
}
