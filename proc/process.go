package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Cmd describes a child process. The zero values of the optional fields
// are the defaults their comments name.
type Cmd struct {
	// Path is the program; without a slash it is looked up in PATH.
	Path string
	// Args are the arguments, Args[0] included; empty means {Path}.
	Args []string
	// Dir is the working directory; empty means this process's.
	Dir string
	// Env is the whole environment; nil means this process's.
	Env []string
	// ExtraFiles are inherited as fd 3, 4, ... (listeners, with
	// [net.TCPListener.File] and the like).
	ExtraFiles []*os.File
	// ListenEnv tells the child about ExtraFiles as systemd does:
	// LISTEN_FDS is their number and LISTEN_PID the child's pid (set by
	// starting the program through /bin/sh, which knows it). See
	// [Listeners] for the child's side.
	ListenEnv bool
	// Stdin is the child's input; nil means /dev/null.
	Stdin io.Reader
	// Stdout and Stderr receive the child's output; nil means each line
	// is logged: stdout at Info, stderr at Warn, with the pid.
	Stdout, Stderr io.Writer
	// MaxLine is the longest line logged whole; longer lines are logged
	// in pieces of MaxLine bytes. Zero means 4096.
	MaxLine int
	// StopSignal is what [Process.Stop], and the end of the context
	// given to [Start], send to the process group. Zero means SIGTERM.
	StopSignal syscall.Signal
	// Grace is how long the group has after StopSignal before it is
	// killed, and how long output is still read after the leader exits
	// (for descendants that left the group but kept it open). Zero means
	// 5s.
	Grace time.Duration
	// Logger gets the output lines; nil means slog.Default().
	Logger *slog.Logger
	// StderrTail, when positive, keeps the last StderrTail bytes the
	// child wrote to its standard error (logged or not) for
	// [Process.StderrTail]: the reason a child that failed to start
	// gives.
	StderrTail int
	// Credential, when set, runs the child as another user and group
	// (which needs root).
	Credential *syscall.Credential
	// OS is the operating system; nil means [System]().
	OS *OS
}

// Process is a started child. Its methods are safe for concurrent use.
type Process struct {
	os    *OS
	cmd   *exec.Cmd
	pid   int
	sig   syscall.Signal
	grace time.Duration
	lines []*lineWriter
	tail  *tailWriter // nil without Cmd.StderrTail

	stopOnce sync.Once
	mu       sync.Mutex
	exited   bool // the leader has exited: never signal its pid again

	done chan struct{}
	err  error // the leader's exit, valid after done
}

// ErrDone is returned by a signal sent after the leader exited.
var ErrDone = os.ErrProcessDone

// Start starts c in a new process group. When ctx ends before the
// process does, the group gets StopSignal and, Grace later, SIGKILL (as
// [Process.Stop] does, through [exec.Cmd.Cancel] and WaitDelay). On
// Linux the leader also gets StopSignal when this process dies first.
func Start(ctx context.Context, c Cmd) (*Process, error) {
	p := &Process{os: c.OS, sig: c.StopSignal, grace: c.Grace, done: make(chan struct{})}
	if p.os == nil {
		p.os = System()
	}
	if p.sig == 0 {
		p.sig = syscall.SIGTERM
	}
	if p.grace <= 0 {
		p.grace = 5 * time.Second
	}
	args := c.Args
	if len(args) == 0 {
		args = []string{c.Path}
	}
	path, env := c.Path, c.Env
	if c.ListenEnv {
		if env == nil {
			env = os.Environ()
		}
		env = append(withoutListenEnv(env), "LISTEN_FDS="+strconv.Itoa(len(c.ExtraFiles)))
		// $$ is the shell's pid, which exec keeps for the program.
		args = append([]string{"sh", "-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`, path}, args[1:]...)
		path = "/bin/sh"
	}
	cmd := exec.CommandContext(ctx, path)
	cmd.Args, cmd.Dir, cmd.Env = args, c.Dir, env
	cmd.ExtraFiles, cmd.Stdin = c.ExtraFiles, c.Stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.Credential}
	setParentDeath(cmd.SysProcAttr, p.sig)
	cmd.Cancel = func() error {
		// This may run before Start below has noted the pid.
		p.mu.Lock()
		p.pid = cmd.Process.Pid
		p.mu.Unlock()
		p.signalStop()
		return nil
	}
	cmd.WaitDelay = p.grace
	cmd.Stdout, cmd.Stderr = c.Stdout, c.Stderr
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	if cmd.Stdout == nil {
		cmd.Stdout = p.newLines(log, "stdout", slog.LevelInfo, c.MaxLine)
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.newLines(log, "stderr", slog.LevelWarn, c.MaxLine)
	}
	if c.StderrTail > 0 {
		p.tail = &tailWriter{max: c.StderrTail}
		cmd.Stderr = io.MultiWriter(p.tail, cmd.Stderr)
	}
	pid, err := p.os.Start(cmd)
	if err == nil && pid <= 1 {
		err = fmt.Errorf("pid %d", pid) // never signal group 0 or -1
	}
	if err != nil {
		for _, l := range p.lines {
			l.start(0)
		}
		return nil, fmt.Errorf("proc: start %s: %w", c.Path, err)
	}
	p.mu.Lock()
	p.pid, p.cmd = pid, cmd
	p.mu.Unlock()
	for _, l := range p.lines {
		l.start(pid)
	}
	go p.wait()
	return p, nil
}

func (p *Process) newLines(log *slog.Logger, stream string, level slog.Level, max int) *lineWriter {
	if max <= 0 {
		max = 4096
	}
	l := &lineWriter{log: log, stream: stream, level: level, max: max, ready: make(chan struct{})}
	p.lines = append(p.lines, l)
	return l
}

// withoutListenEnv drops the LISTEN_* variables this process may have
// been given itself.
func withoutListenEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "LISTEN_") {
			out = append(out, kv)
		}
	}
	return out
}

// wait reaps the leader and kills what is left of its group (children in
// the background would otherwise hold its output open and outlive it).
func (p *Process) wait() {
	pid := p.Pid()
	var err error
	if p.os.Exited(pid) {
		p.mu.Lock()
		p.exited = true
		p.os.Kill(-pid, syscall.SIGKILL) // ESRCH: the group is empty
		p.mu.Unlock()
		err = p.os.Wait(p.cmd)
	} else {
		err = p.os.Wait(p.cmd)
		p.mu.Lock()
		p.exited = true
		p.os.Kill(-pid, syscall.SIGKILL) // best effort: the pid is free again
		p.mu.Unlock()
	}
	for _, l := range p.lines {
		l.flush()
	}
	p.err = err
	close(p.done)
}

// Pid returns the leader's pid, which is also the process group id.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// StderrTail returns the last bytes the child wrote to its standard
// error, up to [Cmd].StderrTail of them; once Done is closed it holds
// everything the child wrote.
func (p *Process) StderrTail() string {
	if p.tail == nil {
		return ""
	}
	return p.tail.String()
}

// Done is closed once the leader has exited and its output is read.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err waits until the leader has exited and returns how it ended: nil
// for exit status 0, else an [*exec.ExitError] or the error of waiting.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Wait waits until the leader has exited and returns [Process.Err], or
// until ctx ends and returns ctx's error; the process keeps running then.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("proc: wait for %d: %w", p.Pid(), ctx.Err())
	}
}

// Signal sends sig to the leader. After the leader exited it returns
// [ErrDone].
func (p *Process) Signal(sig syscall.Signal) error { return p.kill(false, sig) }

// SignalGroup sends sig to the process group. After the leader exited it
// returns [ErrDone]: its group was killed then.
func (p *Process) SignalGroup(sig syscall.Signal) error { return p.kill(true, sig) }

// Kill sends SIGKILL to the process group.
func (p *Process) Kill() { p.kill(true, syscall.SIGKILL) }

func (p *Process) kill(group bool, sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return ErrDone
	}
	pid := p.pid
	if group {
		pid = -pid
	}
	return p.os.Kill(pid, sig)
}

// signalStop sends StopSignal to the group, once.
func (p *Process) signalStop() {
	p.stopOnce.Do(func() { p.SignalGroup(p.sig) })
}

// Stop sends StopSignal to the process group, kills the group when the
// leader has not exited after Grace, and returns [Process.Err].
func (p *Process) Stop() error {
	p.signalStop()
	select {
	case <-p.done:
		return p.err
	case <-p.os.After(p.grace):
	}
	p.Kill()
	<-p.done
	return p.err
}

// ExitStatus describes how a process ended, from [Process.Err]: "" for
// exit status 0, "exit status N", "killed by segmentation fault
// (SIGSEGV)" (the signal's description and name), "killed by SIGKILL"
// (where the description would repeat "killed"), or the error.
func ExitStatus(err error) string {
	if err == nil {
		return ""
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return killedBy(ws.Signal())
		}
		return "exit status " + strconv.Itoa(ee.ExitCode())
	}
	return err.Error()
}

// RSS returns the resident memory of process pid in bytes (VmRSS, from
// /proc), or 0 when it cannot be read.
func RSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// killedBy names sig for ExitStatus.
func killedBy(sig syscall.Signal) string {
	name := unix.SignalName(sig)
	if name == "" {
		name = "signal " + strconv.Itoa(int(sig))
	}
	desc := sig.String()
	if desc == "killed" || strings.HasPrefix(desc, "signal ") {
		return "killed by " + name
	}
	return "killed by " + desc + " (" + name + ")"
}

// WaitDial waits until network/addr accepts a connection, the sign that
// the child listens: it dials with a delay that doubles from 5ms to
// 200ms between attempts, and fails when the leader exits first or when
// ctx ends.
func (p *Process) WaitDial(ctx context.Context, network, addr string) error {
	var d net.Dialer
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, network, addr)
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("proc: %d exited before listening on %s: %v", p.Pid(), addr, p.err)
		case <-ctx.Done():
			return fmt.Errorf("proc: %s %s not answering: %w (%v)", network, addr, ctx.Err(), err)
		case <-p.os.After(delay):
		}
	}
}
