package server

// This file hands a listening socket down to another gopaste process, a
// prefork worker or the new process of a binary upgrade, and implements
// the upgrade (cloudflare/tableflip's design): the running process
// starts the (possibly new) executable with the listener inherited, the
// new process says when it is ready, and only then does the old one
// drain and exit. The socket stays open throughout: connections that
// arrive meanwhile wait in its backlog for whichever process accepts.
//
// The child finds the listener at fd 3 and a control socket at fd 4,
// and its role in GOPASTE_INHERIT ("worker:N" or "upgrade"). Over the
// control socket the child writes lines ("ready", "recycle", a worker's
// "stats {...}" for the master's admin listener); the
// parent never writes, and the child reads end-of-file once the parent
// has closed its end or died.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const inheritEnv = "GOPASTE_INHERIT"

// The roles of an inheriting process.
const (
	RoleWorker  = "worker"  // a prefork worker
	RoleUpgrade = "upgrade" // the new process of a binary upgrade
)

// Inherited is what a parent gopaste handed this process. Its methods
// are safe for concurrent use.
type Inherited struct {
	Role     string
	Worker   int          // the worker's number, under RoleWorker
	Listener net.Listener // fd 3

	ctl        *os.File // fd 4
	mu         sync.Mutex
	parentGone chan struct{}
}

// Inherit returns what a parent gopaste handed down, or nil when this
// process was not started by one. It unsets GOPASTE_INHERIT so that
// this process's own children do not take it for theirs.
func Inherit() (*Inherited, error) {
	v, ok := os.LookupEnv(inheritEnv)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(inheritEnv)
	in := &Inherited{parentGone: make(chan struct{})}
	role, num, _ := strings.Cut(v, ":")
	switch role {
	case RoleWorker:
		n, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("server: bad %s=%q", inheritEnv, v)
		}
		in.Worker = n
	case RoleUpgrade:
	default:
		return nil, fmt.Errorf("server: bad %s=%q", inheritEnv, v)
	}
	in.Role = role
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	lf := os.NewFile(3, "inherited-listener")
	l, err := net.FileListener(lf)
	lf.Close() // l has its own descriptor
	if err != nil {
		return nil, fmt.Errorf("server: inherited listener (fd 3): %w", err)
	}
	in.Listener = l
	in.ctl = os.NewFile(4, "inherited-control")
	go func() { // ends when the parent closes its end or exits
		io.Copy(io.Discard, in.ctl)
		close(in.parentGone)
	}()
	return in, nil
}

// Send writes one message line to the parent: "ready" once serving,
// "recycle" when a worker asks to be replaced.
func (in *Inherited) Send(msg string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	_, err := io.WriteString(in.ctl, msg+"\n")
	return err
}

// ParentGone is closed once the parent closed its end of the control
// socket or exited.
func (in *Inherited) ParentGone() <-chan struct{} { return in.parentGone }

// Inherited wraps a listener this process inherited (from a parent
// gopaste or from systemd) as Listen wraps the ones it opens: with the
// AllowedPeers filter.
func (lc ListenConfig) Inherited(l net.Listener, logger *slog.Logger) net.Listener {
	if len(lc.AllowedPeers) == 0 || l.Addr().Network() != "tcp" {
		return l
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &peerListener{Listener: l, allowed: lc.AllowedPeers, logger: logger}
}

// ListenerFile returns a duplicate of l's socket, to hand to a child.
//
// It is not the *os.File of [net.TCPListener.File]: exec calls Fd on
// the files it passes, and Fd on that one puts the socket in blocking
// mode, for every process sharing it (the flag belongs to the open
// socket, not to a descriptor). A worker would then block in accept(2)
// and could not close its listener to stop. The duplicate made here is
// left in non-blocking mode by Fd.
func ListenerFile(l net.Listener) (*os.File, error) {
	if pl, ok := l.(*peerListener); ok {
		l = pl.Listener
	}
	sc, ok := l.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("server: a %T cannot be handed to another process", l)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("server: listener: %w", err)
	}
	nfd := -1
	cerr := rc.Control(func(fd uintptr) {
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		if nfd, err = syscall.Dup(int(fd)); err == nil {
			syscall.CloseOnExec(nfd)
		}
	})
	if cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("server: duplicate listener: %w", err)
	}
	return os.NewFile(uintptr(nfd), "listener"), nil
}

// KeepSocketFile makes closing l leave its unix socket file in place,
// for the process that took l over; it does nothing to TCP listeners.
func KeepSocketFile(l net.Listener) {
	if ul, ok := l.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false)
	}
}

// control is the parent's end of a child's control socket: the lines the
// child sent, in order, on msgs, closed at end-of-file.
type control struct {
	f    *os.File
	msgs chan string
}

// newControl returns a control socket pair: the parent's end, reading,
// and the child's, to pass as fd 4.
func newControl() (*control, *os.File, error) {
	// Close-on-exec set under ForkLock, as os/exec expects: SOCK_CLOEXEC
	// would do it in one call, but only on Linux and the BSDs.
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, fmt.Errorf("server: control socket: %w", err)
	}
	c := &control{f: os.NewFile(uintptr(fds[0]), "control"), msgs: make(chan string, 4)}
	go func() { // ends when the child's end closes (it exited)
		defer close(c.msgs)
		sc := bufio.NewScanner(c.f)
		sc.Buffer(nil, MaxReportLine)
		for sc.Scan() {
			c.msgs <- sc.Text()
		}
	}()
	return c, os.NewFile(uintptr(fds[1]), "control-child"), nil
}

// childEnv is this process's environment with the role for a child.
func childEnv(role string) []string {
	env := []string{inheritEnv + "=" + role}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, inheritEnv+"=") && !strings.HasPrefix(kv, "LISTEN_") {
			env = append(env, kv)
		}
	}
	return env
}

// Upgrade is one binary upgrade: it starts Path with Args and the
// listener inherited, and waits until the new process is ready.
type Upgrade struct {
	Path string   // the program; os.Executable's path
	Args []string // Args[0] included
	// Listener is the socket to hand over (see [ListenerFile]).
	Listener *os.File
	// Stdout and Stderr are the new process's; an *os.File is passed
	// as is, so the output goes on after this process exits.
	Stdout, Stderr io.Writer
	// Timeout bounds the wait for readiness; the new process is killed
	// after it. Zero means one minute.
	Timeout time.Duration
}

// ErrUpgradeFailed is returned by [Upgrade.Run] when the new process
// exited or did not get ready in time; this process goes on serving.
var ErrUpgradeFailed = errors.New("server: upgrade failed")

// Run starts the new process and waits until it says it is ready. It
// returns the new process's pid and a file this process must keep open
// until it exits (the new process learns from its closing that the old
// one is gone, and allows upgrades from then on).
func (u *Upgrade) Run() (pid int, keep *os.File, err error) {
	ctl, childEnd, err := newControl()
	if err != nil {
		return 0, nil, err
	}
	cmd := exec.Command(u.Path)
	cmd.Args = u.Args
	cmd.Env = childEnv(RoleUpgrade)
	cmd.ExtraFiles = []*os.File{u.Listener, childEnd}
	cmd.Stdout, cmd.Stderr = u.Stdout, u.Stderr
	err = cmd.Start()
	childEnd.Close()
	if err != nil {
		ctl.f.Close()
		return 0, nil, fmt.Errorf("%w: start %s: %v", ErrUpgradeFailed, u.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps the child if it exits while this process runs
	timeout := u.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case msg, ok := <-ctl.msgs:
			if ok && msg != "ready" {
				continue
			}
			if ok {
				return cmd.Process.Pid, ctl.f, nil
			}
			err := <-exited // the child closed its end: it exited
			ctl.f.Close()
			return 0, nil, fmt.Errorf("%w: new process %d exited: %v", ErrUpgradeFailed, cmd.Process.Pid, err)
		case <-t.C:
			cmd.Process.Kill()
			ctl.f.Close()
			return 0, nil, fmt.Errorf("%w: new process %d not ready after %s", ErrUpgradeFailed, cmd.Process.Pid, timeout)
		}
	}
}

// WritePIDFile writes this process's pid to path, atomically (through a
// temporary file renamed over it).
func WritePIDFile(path string) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+".*")
	if err != nil {
		return fmt.Errorf("server: pid file: %w", err)
	}
	defer os.Remove(f.Name()) // after a failure; gone after the rename
	_, err = fmt.Fprintf(f, "%d\n", os.Getpid())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("server: pid file: %w", err)
	}
	return nil
}

// ReadPIDFile returns the pid written in path.
func ReadPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("%s: no pid in %q", path, b)
	}
	return pid, nil
}

// RemovePIDFile removes path when it holds this process's pid (after an
// upgrade it holds the new process's).
func RemovePIDFile(path string) {
	if pid, err := ReadPIDFile(path); err == nil && pid == os.Getpid() {
		os.Remove(path)
	}
}
