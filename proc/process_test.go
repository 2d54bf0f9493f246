package proc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeOS runs this package without processes: a started "process" exits
// when it gets one of the signals in dieOn (or at once when exitAtOnce).
type fakeOS struct {
	mu         sync.Mutex
	next       int
	exits      map[*exec.Cmd]chan error
	pids       map[int]*exec.Cmd
	kills      []string
	dieOn      map[syscall.Signal]bool
	exitAtOnce bool
	runLen     []time.Duration // how far each start moves the clock
	now        time.Time
	afters     []time.Duration
	after      func(d time.Duration) <-chan time.Time
}

func newFakeOS(dieOn ...syscall.Signal) *fakeOS {
	f := &fakeOS{next: 100, exits: map[*exec.Cmd]chan error{}, pids: map[int]*exec.Cmd{}, dieOn: map[syscall.Signal]bool{syscall.SIGKILL: true}}
	for _, s := range dieOn {
		f.dieOn[s] = true
	}
	return f
}

func (f *fakeOS) os() *OS {
	return &OS{
		Start: func(cmd *exec.Cmd) (int, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.next++
			ch := make(chan error, 1)
			f.exits[cmd], f.pids[f.next] = ch, cmd
			if len(f.runLen) > 0 {
				f.now = f.now.Add(f.runLen[0])
				f.runLen = f.runLen[1:]
			}
			if f.exitAtOnce {
				ch <- errors.New("exit status 1")
			}
			return f.next, nil
		},
		Exited: func(int) bool { return false },
		Wait: func(cmd *exec.Cmd) error {
			f.mu.Lock()
			ch := f.exits[cmd]
			f.mu.Unlock()
			return <-ch
		},
		Kill: func(pid int, sig syscall.Signal) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.kills = append(f.kills, fmt.Sprintf("%d %v", pid, sig))
			if cmd := f.pids[max(pid, -pid)]; cmd != nil && f.dieOn[sig] {
				select {
				case f.exits[cmd] <- fmt.Errorf("killed by %v", sig):
				default:
				}
			}
			return nil
		},
		Now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.now
		},
		After: func(d time.Duration) <-chan time.Time {
			f.mu.Lock()
			f.afters = append(f.afters, d)
			after := f.after
			f.mu.Unlock()
			if after != nil {
				return after(d)
			}
			c := make(chan time.Time, 1)
			c <- time.Time{}
			return c
		},
	}
}

func (f *fakeOS) signals() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.kills...)
}

func TestStopEscalatesAfterGrace(t *testing.T) {
	f := newFakeOS() // ignores SIGTERM
	fire := make(chan time.Time)
	asked := make(chan time.Duration, 1)
	f.after = func(d time.Duration) <-chan time.Time { asked <- d; return fire }
	p, err := Start(t.Context(), Cmd{Path: "/bin/worker", Grace: 3 * time.Second, OS: f.os()})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error)
	go func() { stopped <- p.Stop() }()
	if d := <-asked; d != 3*time.Second {
		t.Errorf("Stop waits %v, want the grace 3s", d)
	}
	if got, want := f.signals(), []string{"-101 terminated"}; !reflect.DeepEqual(got, want) {
		t.Errorf("signals before the grace = %q, want %q", got, want)
	}
	fire <- time.Time{}
	if err := <-stopped; err == nil || err.Error() != "killed by killed" {
		t.Errorf("Stop = %v, want the SIGKILL exit", err)
	}
	if got := f.signals(); len(got) < 2 || got[1] != "-101 killed" {
		t.Errorf("signals = %q, want SIGKILL to the group after the grace", got)
	}
	n := len(f.signals())
	if err := p.Signal(syscall.SIGHUP); !errors.Is(err, ErrDone) {
		t.Errorf("Signal after exit = %v, want ErrDone", err)
	}
	if len(f.signals()) != n {
		t.Errorf("a signal reached a reaped pid: %q", f.signals())
	}
}

func TestStopSignalObeyed(t *testing.T) {
	f := newFakeOS(syscall.SIGQUIT)
	f.after = func(time.Duration) <-chan time.Time { return nil } // never fires
	p, err := Start(t.Context(), Cmd{Path: "nginx", StopSignal: syscall.SIGQUIT, OS: f.os()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err == nil || err.Error() != "killed by quit" {
		t.Errorf("Stop = %v", err)
	}
	// The group is killed once the leader is gone, for what it left.
	if got, want := f.signals(), []string{"-101 quit", "-101 killed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("signals = %q, want %q", got, want)
	}
	if err := p.Stop(); err == nil {
		t.Error("a second Stop lost the exit error")
	}
}

func TestWaitDeadline(t *testing.T) {
	f := newFakeOS()
	p, err := Start(t.Context(), Cmd{Path: "w", OS: f.os()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
	p.Kill()
	if err := p.Wait(t.Context()); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Wait after Kill = %v", err)
	}
}

func TestStartFailure(t *testing.T) {
	o := newFakeOS().os()
	o.Start = func(*exec.Cmd) (int, error) { return 0, errors.New("no such file") }
	if _, err := Start(t.Context(), Cmd{Path: "x", OS: o}); err == nil || !strings.HasPrefix(err.Error(), "proc: start x") {
		t.Errorf("Start = %v", err)
	}
	o.Start = func(*exec.Cmd) (int, error) { return 0, nil }
	if _, err := Start(t.Context(), Cmd{Path: "x", OS: o}); err == nil {
		t.Error("Start accepted pid 0, whose group is ours")
	}
}

func TestRestartBackoff(t *testing.T) {
	f := newFakeOS(syscall.SIGTERM)
	f.exitAtOnce = true
	ms := time.Millisecond
	f.runLen = []time.Duration{ms, ms, ms, ms, ms, 20 * time.Second, ms}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	starts := 0
	var last *Process
	r := &Restart{
		MinDelay: 100 * ms, MaxDelay: 800 * ms, Stable: 10 * time.Second,
		Logger: slog.New(slog.DiscardHandler), OS: f.os(),
		Start: func(ctx context.Context) (*Process, error) {
			starts++
			if starts == 8 {
				f.mu.Lock()
				f.exitAtOnce = false
				f.mu.Unlock()
				cancel()
			}
			p, err := Start(ctx, Cmd{Path: "w", OS: f.os()})
			last = p
			return p, err
		},
	}
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 800 * ms, 100 * ms, 200 * ms}
	if got := f.afters; len(got) < len(want) || !reflect.DeepEqual(got[:len(want)], want) {
		t.Errorf("delays = %v, want %v first (doubling, capped, reset after a stable run)", got, want)
	}
	if starts != 8 {
		t.Errorf("%d starts, want 8", starts)
	}
	select {
	case <-last.Done():
	default:
		t.Error("Run returned with its process running")
	}
}

// An expected exit (a recycle) restarts at once, keeping the delay.
func TestRestartExpected(t *testing.T) {
	f := newFakeOS(syscall.SIGTERM)
	f.exitAtOnce = true
	ms := time.Millisecond
	f.runLen = []time.Duration{ms, ms, ms, ms}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	starts := 0
	r := &Restart{
		MinDelay: 100 * ms, Logger: slog.New(slog.DiscardHandler), OS: f.os(),
		Expected: func(p *Process) bool { return starts%2 == 1 },
		Start: func(ctx context.Context) (*Process, error) {
			starts++
			if starts == 4 {
				f.mu.Lock()
				f.exitAtOnce = false
				f.mu.Unlock()
				cancel()
			}
			return Start(ctx, Cmd{Path: "w", OS: f.os()})
		},
	}
	r.Run(ctx)
	if want := []time.Duration{100 * ms}; !reflect.DeepEqual(f.afters[:1], want) || len(f.afters) > 2 {
		t.Errorf("delays = %v, want %v first (none after an expected exit)", f.afters, want)
	}
}

func TestRestartStartFails(t *testing.T) {
	f := newFakeOS()
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	r := &Restart{Logger: slog.New(slog.DiscardHandler), OS: f.os(), Start: func(context.Context) (*Process, error) {
		n++
		if n == 3 {
			cancel()
		}
		return nil, errors.New("bad command")
	}}
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(f.afters) != 3 || f.afters[1] != 2*f.afters[0] {
		t.Errorf("%d starts, delays %v: failed starts must back off too", n, f.afters)
	}
}

// lineHandler keeps the "line" of each record, with its level and pid.
type lineHandler struct {
	mu    sync.Mutex
	lines []string
}

func (h *lineHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *lineHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *lineHandler) WithGroup(string) slog.Handler            { return h }
func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var line, pid string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "line":
			line = a.Value.String()
		case "pid":
			pid = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.lines = append(h.lines, r.Level.String()+" "+pid+" "+line)
	h.mu.Unlock()
	return nil
}

func TestLineWriter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		want   []string
	}{
		{"whole lines", []string{"a\nb\n"}, []string{"a", "b"}},
		{"split writes", []string{"ab", "c\nd", "e\n"}, []string{"abc", "de"}},
		{"crlf and empty lines", []string{"a\r\n\n\nb\r\n"}, []string{"a", "b"}},
		{"long line in pieces", []string{"0123456789\n"}, []string{"0123", "4567", "89"}},
		{"long line across writes", []string{"01", "2345", "6\n"}, []string{"0123", "456"}},
		{"exactly max", []string{"0123\n4"}, []string{"0123", "4"}},
		{"last line without newline", []string{"a\nlast"}, []string{"a", "last"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &lineHandler{}
			w := &lineWriter{log: slog.New(h), stream: "stderr", level: slog.LevelWarn, max: 4, ready: make(chan struct{})}
			w.start(42)
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			w.flush()
			var want []string
			for _, l := range tc.want {
				want = append(want, "WARN 42 "+l)
			}
			if !reflect.DeepEqual(h.lines, want) {
				t.Errorf("logged %q, want %q", h.lines, want)
			}
		})
	}
}

func TestListenFDs(t *testing.T) {
	for _, tc := range []struct {
		pid, fds string
		want     int
		err      bool
	}{
		{"", "", 0, false},
		{"7", "2", 2, false},
		{"", "1", 1, false},
		{"8", "2", 0, false}, // another process's
		{"7", "x", 0, true},
		{"7", "-1", 0, true},
	} {
		n, err := listenFDs(tc.pid, tc.fds, 7)
		if n != tc.want || (err != nil) != tc.err {
			t.Errorf("listenFDs(%q, %q) = %d, %v; want %d, error %v", tc.pid, tc.fds, n, err, tc.want, tc.err)
		}
	}
}

func TestExitStatus(t *testing.T) {
	if s := ExitStatus(nil); s != "" {
		t.Errorf("ExitStatus(nil) = %q", s)
	}
	if s := ExitStatus(errors.New("boom")); s != "boom" {
		t.Errorf("ExitStatus(boom) = %q", s)
	}
}

// SIGKILL read "killed by killed" (issue 10).
func TestKilledBy(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{
		syscall.SIGKILL:    "killed by SIGKILL",
		syscall.SIGSEGV:    "killed by segmentation fault (SIGSEGV)",
		syscall.SIGTERM:    "killed by terminated (SIGTERM)",
		syscall.Signal(77): "killed by signal 77",
	} {
		if got := killedBy(sig); got != want {
			t.Errorf("killedBy(%d) = %q, want %q", int(sig), got, want)
		}
	}
}

func TestWaitDial(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := l.Addr().String()
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l2.Addr().String()
	l2.Close()
	defer l.Close()

	f := newFakeOS()
	p, err := Start(t.Context(), Cmd{Path: "w", OS: f.os()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitDial(t.Context(), "tcp", open); err != nil {
		t.Errorf("WaitDial(listening) = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	f.after = func(time.Duration) <-chan time.Time {
		if n++; n == 3 {
			cancel()
		}
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	if err := p.WaitDial(ctx, "tcp", closed); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitDial(closed port, ctx ends) = %v, want context.Canceled", err)
	}
	p.Kill()
	<-p.Done()
	if err := p.WaitDial(t.Context(), "tcp", closed); err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Errorf("WaitDial after exit = %v", err)
	}
	if got, want := f.afters[:3], []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}; !reflect.DeepEqual(got, want) {
		t.Errorf("dial delays %v, want %v", got, want)
	}
}

func TestRSS(t *testing.T) {
	if n := RSS(os.Getpid()); n <= 0 {
		t.Errorf("RSS(this process) = %d, want its resident memory", n)
	}
	if n := RSS(-1); n != 0 {
		t.Errorf("RSS(-1) = %d, want 0", n)
	}
}
