package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
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

// CPU time of a process tree, from /proc.
//
// The CPU time a system used during a round is C(end) − C(start), where
// C is the sum over the processes of its tree (its process groups and
// their descendants, zombies included) of utime+stime+cutime+cstime: each
// process's own time plus that of the children it has waited for. When a
// process of the tree exits and its parent, also of the tree, waits for it
// (a prefork master replacing a worker, a shell waiting for a command),
// the kernel adds the child's times, its own and its reaped children's, to
// the parent's cutime and cstime before it removes the child from /proc:
// the time moves from one term of the sum to another, neither lost nor
// counted twice, however many processes came and went between the two
// samples. A zombie nobody has waited for yet is still in /proc with its
// times.
//
// The rule is exact under two conditions:
//
//   - A sample is one moment. The files are read one after the other, and
//     a child reaped between the reading of its own file and its parent's
//     would count twice (or not at all, in the other order), so
//     sampleCPU reads the files again and starts over when a process has
//     gone or its cutime+cstime has changed in between.
//   - Every process that exits during the round is waited for by a
//     process of the tree. One that is not takes its time with it: an
//     orphan adopted by init or a subreaper, the group leader itself
//     (the harness waits for it, and a round in which it exits fails), a
//     child of a parent that ignores SIGCHLD (the kernel then reaps it
//     without adding to cutime). When a process whose parent was not of
//     the tree at the start (an orphan, a leader) has gone by the end,
//     since does not subtract its time before the round from the
//     others': its time during the round is missing, and that is all.

// procCPU is what a sample keeps of one process, times in clock ticks.
type procCPU struct {
	start  int64 // starttime (field 22): a reused pid is another process
	own    int64 // utime+stime
	reaped int64 // cutime+cstime: the children it has waited for
	orphan bool  // its parent is not of the tree
}

// statTimes reads starttime, utime+stime and cutime+cstime from a
// /proc/PID/stat line.
func statTimes(stat string) (procCPU, bool) {
	f := statFields(stat)
	if len(f) < 20 {
		return procCPU{}, false
	}
	var n [5]int64
	for i, k := range []int{11, 12, 13, 14, 19} {
		v, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil || v < 0 || v > math.MaxInt64/8 { // sums of them cannot overflow
			return procCPU{}, false
		}
		n[i] = v
	}
	return procCPU{own: n[0] + n[1], reaped: n[2] + n[3], start: n[4]}, true
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ), 100 per
// second on every architecture Linux and Go share.
const clockTick = 10 * time.Millisecond

// cpuSample is the CPU time of each process of a tree at one moment, by
// pid.
type cpuSample map[int]procCPU

// sampleCPU reads the CPU time of every process of the groups and their
// descendants, as of one moment: it reads the files again and starts
// over (at most 20 times) while a process it read has gone or has reaped
// a child in between.
func sampleCPU(pgids ...int) cpuSample {
	var s cpuSample
	for range 20 {
		stats := groupStats(pgids...)
		s = make(cpuSample, len(stats))
		for pid, stat := range stats {
			t, ok := statTimes(stat)
			if !ok {
				continue
			}
			ppid, _ := statPPID(stat)
			_, parentIn := stats[ppid]
			t.orphan = !parentIn
			s[pid] = t
		}
		if s.unchanged() {
			break
		}
	}
	return s
}

// unchanged says whether every process of s is still there with the
// children's time it had: no child was reaped while s was read.
func (s cpuSample) unchanged() bool {
	for pid, p := range s {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		if t, ok := statTimes(string(b)); !ok || t.start != p.start || t.reaped != p.reaped {
			return false
		}
	}
	return true
}

// ticks is the sum of the processes' own and reaped children's times.
func (s cpuSample) ticks() int64 {
	var n int64
	for _, p := range s {
		n += p.own + p.reaped
	}
	return n
}

// since is the CPU time the tree used between before and s (see above).
// It is never negative: a process that left the tree unseen (reaped by
// init after its parent died) could make the difference so.
func (s cpuSample) since(before cpuSample) time.Duration {
	n := s.ticks() - before.ticks()
	for pid, p := range before {
		if q, ok := s[pid]; p.orphan && (!ok || q.start != p.start) {
			n += p.own + p.reaped
		}
	}
	return time.Duration(max(n, 0)) * clockTick
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

// groupRSS is the resident memory of the groups and their descendants
// now: the sum of their VmRSS.
func groupRSS(pgids ...int) int64 {
	var sum int64
	for pid := range groupStats(pgids...) {
		if rss, _, err := memStatus(pid); err == nil {
			sum += rss
		}
	}
	return sum
}

// hwmSampler polls groupRSS every 100 ms while a run goes on and keeps
// the largest: the peak RSS of a system is the most memory its processes
// held together at one of those moments. It is not the sum of each
// process's VmHWM, which adds the peaks of processes that never lived at
// the same time (every worker a prefork server ever replaced) and peaks
// reached at different moments; a peak shorter than the interval can be
// missed.
type hwmSampler struct {
	pgids []int
	most  int64 // written by the polling goroutine, then by peak once it has ended
	stop  chan struct{}
	done  chan struct{}
}

const hwmInterval = 100 * time.Millisecond

func startHWMSampler(pgids ...int) *hwmSampler {
	s := &hwmSampler{pgids: pgids, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(hwmInterval)
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
	s.most = max(s.most, groupRSS(s.pgids...))
}

// peak stops the sampler, samples once more and returns the largest sum.
func (s *hwmSampler) peak() int64 {
	close(s.stop)
	<-s.done
	s.sample()
	return s.most
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
