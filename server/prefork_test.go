package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestMaxRequests(t *testing.T) {
	for _, tc := range []struct {
		name              string
		max, jitter, reqs int
		wantLow, wantHigh int // the request that recycles, 0 for none
	}{
		{"off", 0, 0, 20, 0, 0},
		{"exact", 5, 0, 20, 5, 5},
		{"jitter", 5, 3, 20, 5, 8},
		{"not reached", 50, 0, 20, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls, at atomic.Int64
			var served atomic.Int64
			h := MaxRequests(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }),
				Options{MaxRequests: tc.max, MaxRequestsJitter: tc.jitter},
				func() { calls.Add(1); at.Store(served.Load() + 1) })
			for range tc.reqs {
				h.ServeHTTP(nil, nil)
			}
			if served.Load() != int64(tc.reqs) {
				t.Errorf("served %d, want %d (recycling must not stop serving)", served.Load(), tc.reqs)
			}
			if tc.wantLow == 0 {
				if calls.Load() != 0 {
					t.Errorf("recycle called %d times, want none", calls.Load())
				}
				return
			}
			if calls.Load() != 1 || at.Load() < int64(tc.wantLow) || at.Load() > int64(tc.wantHigh) {
				t.Errorf("recycle called %d times, at request %d; want once, at %d..%d", calls.Load(), at.Load(), tc.wantLow, tc.wantHigh)
			}
		})
	}
}

// TestDrainWaitsForAcceptedConnections: a connection accepted before the
// drain whose request has not reached the handler yet is waited for (it
// would otherwise be closed unanswered by http.Server.Shutdown), and
// then served; the listener no longer accepts.
func TestDrainWaitsForAcceptedConnections(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &Drain{MaxWait: 5 * time.Second}
	srv := &http.Server{Handler: d.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served")
	}))}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(d.Listener(l)) }()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitOpen(t, d, 1) // accepted, no request yet

	drained := make(chan time.Duration, 1)
	begin := time.Now()
	go func() { d.Start(); drained <- time.Since(begin) }()
	time.Sleep(100 * time.Millisecond)
	select {
	case <-drained:
		t.Fatal("Drain.Start returned while an accepted connection had sent nothing")
	default:
	}
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if took := <-drained; took > 4*time.Second {
		t.Errorf("drain took %v: the request did not end the wait", took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the accepted connection was dropped: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "served" {
		t.Errorf("got %q", b)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	<-served
	if c2, err := net.DialTimeout("tcp", l.Addr().String(), time.Second); err == nil {
		c2.Close()
		t.Error("the drained listener still accepts")
	}
}

// TestDrainClosesKeptAliveConnections: a kept-alive connection idle
// when the drain starts is not closed under its client (whose next
// request may be on its way): that next request is answered, with
// "Connection: close", and the connection closed after it; the drain
// ends then, without waiting for MaxWait.
func TestDrainClosesKeptAliveConnections(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &Drain{MaxWait: 10 * time.Second}
	srv := &http.Server{Handler: d.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served")
	}))}
	go srv.Serve(d.Listener(l))
	defer srv.Close()

	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	get := func() *http.Response {
		t.Helper()
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("the kept-alive connection was dropped: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get(); resp.Close {
		t.Fatal("a response before the drain closes its connection")
	}
	drained := make(chan time.Duration, 1)
	begin := time.Now()
	go func() { d.Start(); drained <- time.Since(begin) }()
	time.Sleep(100 * time.Millisecond)
	select {
	case <-drained:
		t.Fatal("Drain.Start returned while a kept-alive connection was open")
	default:
	}
	if resp := get(); !resp.Close { // ReadResponse took "Connection: close" out of the header
		t.Errorf("the response during the drain does not close its connection: %v", resp.Header)
	}
	select {
	case took := <-drained:
		if took > 5*time.Second {
			t.Errorf("drain took %v: the closed connection did not end the wait", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drain.Start still waits after the last connection closed")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("after the closing response: read %d, %v; want EOF", n, err)
	}
}

// TestDrainServing: Serving is called once, when the listener's first
// Accept begins (a process taking over says it is ready then), not when
// the listener is wrapped.
func TestDrainServing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	d := &Drain{Serving: func() { calls.Add(1) }}
	dl := d.Listener(l)
	if calls.Load() != 0 {
		t.Fatal("Serving called before Accept")
	}
	go func() {
		for {
			c, err := dl.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	waitOpen(t, d, 0)
	d.Start()
	if n := calls.Load(); n != 1 {
		t.Errorf("Serving called %d times, want once", n)
	}
}

// TestDrainMaxWait: a connection that never sends is waited for at most
// MaxWait; a closed one not at all.
func TestDrainMaxWait(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &Drain{MaxWait: 200 * time.Millisecond}
	dl := d.Listener(l)
	go func() {
		for {
			c, err := dl.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	closed, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	waitOpen(t, d, 1)
	closed.Close()
	waitOpen(t, d, 0)
	begin := time.Now()
	d.Start()
	if took := time.Since(begin); took > 150*time.Millisecond {
		t.Errorf("drain with nothing pending took %v", took)
	}

	d2 := &Drain{MaxWait: 200 * time.Millisecond}
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	dl2 := d2.Listener(l2)
	go func() {
		for {
			if _, err := dl2.Accept(); err != nil {
				return
			}
		}
	}()
	silent, err := net.Dial("tcp", l2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitOpen(t, d2, 1)
	begin = time.Now()
	d2.Start()
	if took := time.Since(begin); took < 150*time.Millisecond || took > 2*time.Second {
		t.Errorf("drain with a silent connection took %v, want about MaxWait (200ms)", took)
	}
}

// waitOpen waits until d counts n open connections.
func waitOpen(t *testing.T, d *Drain, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.mu.Lock()
		got := d.open
		d.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPIDFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gopaste.pid")
	if err := WritePIDFile(p); err != nil {
		t.Fatal(err)
	}
	if pid, err := ReadPIDFile(p); err != nil || pid != os.Getpid() {
		t.Errorf("ReadPIDFile = %d, %v; want %d", pid, err, os.Getpid())
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the pid file: %v", entries)
	}
	// Another process's pid (an upgrade's new process) is left alone.
	os.WriteFile(p, []byte("1234567\n"), 0o644)
	RemovePIDFile(p)
	if _, err := os.Stat(p); err != nil {
		t.Errorf("another process's pid file was removed: %v", err)
	}
	WritePIDFile(p)
	RemovePIDFile(p)
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("own pid file left: %v", err)
	}
	os.WriteFile(p, []byte("x\n"), 0o644)
	if _, err := ReadPIDFile(p); err == nil || !strings.Contains(err.Error(), "no pid") {
		t.Errorf("a file without a pid: %v", err)
	}
}

// TestListenerFileStaysNonBlocking: handing the listener to a child
// (exec calls Fd on it) must not turn the shared socket blocking, or
// closing a listener blocked in accept(2) hangs.
func TestListenerFileStaysNonBlocking(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ListenerFile(l)
	if err != nil {
		t.Fatal(err)
	}
	f.Fd() // as os.StartProcess does
	f.Close()
	accepted := make(chan error, 1)
	go func() { _, err := l.Accept(); accepted <- err }()
	time.Sleep(50 * time.Millisecond) // let Accept start
	closed := make(chan struct{})
	go func() { l.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hangs: the socket was turned blocking")
	}
	if err := <-accepted; err == nil {
		t.Error("Accept returned a connection")
	}
}

// shWorker is a Prefork whose workers are shell scripts speaking the
// control socket (fd 4) themselves.
func shWorker(t *testing.T, n int, script string, stderr io.Writer) *Prefork {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f, err := ListenerFile(l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &Prefork{Workers: n, Path: "/bin/sh", Args: []string{"sh", "-c", script}, Listener: f,
		Stderr: stderr, StartTimeout: 5 * time.Second, StopTimeout: 2 * time.Second,
		Logger: slogDiscard()}
}

// TestPreforkStartFailure: a worker that exits before it is ready fails
// Start with how it ended; its stderr reaches Stderr.
func TestPreforkStartFailure(t *testing.T) {
	var stderr strings.Builder
	m := shWorker(t, 2, `echo "boom: cannot import app" >&2; exit 3`, &stderr)
	err := m.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready: exit status 3") {
		t.Errorf("Start = %v", err)
	}
	if !strings.Contains(stderr.String(), "boom: cannot import app") {
		t.Errorf("the worker's stderr was not passed on: %q", stderr.String())
	}
}

// TestPreforkSupervises: a killed worker is started again; a worker that
// asks to be recycled is replaced; Roll replaces them all; the end of
// Run's context stops them.
func TestPreforkSupervises(t *testing.T) {
	m := shWorker(t, 2, `echo ready >&4; exec sleep 30`, nil)
	ctx, cancel, ran := runPrefork(t, m)
	first := m.Pids()
	if len(first) != 2 || first[0] == 0 || first[1] == 0 {
		t.Fatalf("pids %v", first)
	}
	syscall.Kill(first[0], syscall.SIGKILL)
	waitPids(t, m, func(p []int) bool { return p[0] != 0 && p[0] != first[0] && p[1] == first[1] })
	before := m.Pids()
	if err := m.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	after := m.Pids()
	if after[0] == before[0] || after[1] == before[1] || after[0] == 0 || after[1] == 0 {
		t.Errorf("Roll: pids %v -> %v", before, after)
	}
	for _, pid := range before {
		waitGone(t, pid)
	}
	cancel()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	for _, pid := range after {
		waitGone(t, pid)
	}
}

// TestPreforkRecycles: a worker's "recycle" gets it replaced by a ready
// one, then stopped.
func TestPreforkRecycles(t *testing.T) {
	m := shWorker(t, 1, `echo ready >&4; sleep 0.2; echo recycle >&4; exec sleep 30`, nil)
	runPrefork(t, m)
	first := m.Pids()[0]
	waitPids(t, m, func(p []int) bool { return p[0] != 0 && p[0] != first })
	waitGone(t, first)
}

// TestPreforkRollFailureKeepsWorkers: a replacement that does not start
// stops the roll and leaves the old worker serving.
func TestPreforkRollFailureKeepsWorkers(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "broken")
	m := shWorker(t, 2, `[ -e `+flag+` ] && exit 1; echo ready >&4; exec sleep 30`, nil)
	ctx, _, _ := runPrefork(t, m)
	before := m.Pids()
	os.WriteFile(flag, nil, 0o644)
	if err := m.Roll(ctx); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("Roll = %v, want the new worker's failure", err)
	}
	if now := m.Pids(); fmt.Sprint(now) != fmt.Sprint(before) {
		t.Errorf("pids %v after a failed roll, want %v", now, before)
	}
}

// runPrefork starts m and runs it until the test ends.
func runPrefork(t *testing.T, m *Prefork) (context.Context, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	ran := make(chan struct{})
	go func() { m.Run(ctx); close(ran) }()
	t.Cleanup(func() { cancel(); <-ran }) // before shWorker's cleanups
	return ctx, cancel, ran
}

func waitPids(t *testing.T, m *Prefork, ok func([]int) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(m.Pids()) {
		if time.Now().After(deadline) {
			t.Fatalf("pids %v", m.Pids())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestPreforkBackoff: a worker that keeps dying young is restarted after
// a delay that doubles.
func TestPreforkBackoff(t *testing.T) {
	dir := t.TempDir()
	m := shWorker(t, 1, `echo ready >&4; date +%s%N >> `+filepath.Join(dir, "starts")+`; exit 1`, nil)
	runPrefork(t, m)
	var starts []int64
	deadline := time.Now().Add(10 * time.Second)
	for len(starts) < 5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		b, _ := os.ReadFile(filepath.Join(dir, "starts"))
		starts = starts[:0]
		for _, f := range strings.Fields(string(b)) {
			var n int64
			fmt.Sscan(f, &n)
			starts = append(starts, n)
		}
	}
	if len(starts) < 5 {
		t.Fatalf("%d starts in 10s", len(starts))
	}
	// Delays 100, 200, 400, 800ms: each gap is its delay and the start's
	// own time, which varies on a busy machine (so no ratio of gaps).
	for i := 1; i < 5; i++ {
		delay := minRestartDelay << (i - 1)
		if gap := time.Duration(starts[i] - starts[i-1]); gap < delay {
			t.Errorf("gaps between starts %v: gap %d (%v) is shorter than its delay %v", starts, i, gap.Round(time.Millisecond), delay)
		}
	}
}

// TestPreforkResize: Resize starts the workers it adds, supervised like
// the others (a killed one comes back), and drains the ones it takes
// away; Roll then replaces the workers there are.
func TestPreforkResize(t *testing.T) {
	m := shWorker(t, 2, `echo ready >&4; exec sleep 30`, nil)
	if err := m.Resize(t.Context(), 3); err == nil {
		t.Error("Resize before Start succeeded")
	}
	ctx, cancel, ran := runPrefork(t, m)
	first := m.Pids()
	if err := m.Resize(ctx, 0); err == nil {
		t.Error("Resize(0) succeeded")
	}
	if err := m.Resize(ctx, 3); err != nil {
		t.Fatal(err)
	}
	grown := m.Pids()
	if len(grown) != 3 || grown[0] != first[0] || grown[1] != first[1] || grown[2] == 0 {
		t.Fatalf("pids %v after Resize(3), from %v", grown, first)
	}
	syscall.Kill(grown[2], syscall.SIGKILL)
	waitPids(t, m, func(p []int) bool { return len(p) == 3 && p[2] != 0 && p[2] != grown[2] })
	third := m.Pids()[2]
	if err := m.Resize(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if now := m.Pids(); len(now) != 1 || now[0] != first[0] {
		t.Fatalf("pids %v after Resize(1), want [%d]", now, first[0])
	}
	waitGone(t, first[1])
	waitGone(t, third)
	if err := m.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	rolled := m.Pids()
	if len(rolled) != 1 || rolled[0] == first[0] || rolled[0] == 0 {
		t.Errorf("pids %v after Roll", rolled)
	}
	waitGone(t, first[0])
	cancel()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	waitGone(t, rolled[0])
}

// TestPreforkResizeBeforeRun: between Start and Run, a worker Resize
// takes away is stopped all the same, and one it adds is supervised by
// Run with the others.
func TestPreforkResizeBeforeRun(t *testing.T) {
	m := shWorker(t, 2, `echo ready >&4; exec sleep 30`, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	first := m.Pids()
	if err := m.Resize(ctx, 1); err != nil {
		t.Fatal(err)
	}
	waitGone(t, first[1])
	if err := m.Resize(ctx, 2); err != nil {
		t.Fatal(err)
	}
	added := m.Pids()[1]
	ran := make(chan struct{})
	go func() { m.Run(ctx); close(ran) }()
	syscall.Kill(added, syscall.SIGKILL)
	waitPids(t, m, func(p []int) bool { return len(p) == 2 && p[1] != 0 && p[1] != added })
	last := m.Pids()
	cancel()
	<-ran
	for _, pid := range last {
		waitGone(t, pid)
	}
}
