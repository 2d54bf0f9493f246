package cli

import (
	"errors"
	"flag"
	"fmt"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/server"
)

// runStop sends SIGTERM to the process in a pid file and waits until it
// has exited: its in-flight requests are drained within its
// graceful_timeout.
func runStop(e *Env, args []string) int {
	fs := newFlags(e, "stop", "PIDFILE [options]")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the process to exit")
	pidfile, code, ok := pidFileArg(e, "stop", fs, args)
	if !ok {
		return code
	}
	pid, err := signalPIDFile(pidfile, syscall.SIGTERM)
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste stop: %v\n", err)
		return 1
	}
	deadline := time.Now().Add(*timeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			fmt.Fprintf(e.Stderr, "gopaste stop: process %d still running after %s\n", pid, *timeout)
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(e.Stdout, "stopped %d\n", pid)
	return 0
}

// pidFileArg parses the flags and the one PIDFILE argument of stop,
// reload and restart.
func pidFileArg(e *Env, cmd string, fs *flag.FlagSet, args []string) (string, int, bool) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", exitFlagErr(err), false
	}
	if len(pos) != 1 {
		fmt.Fprintf(e.Stderr, "gopaste %s: one PIDFILE argument is required\n", cmd)
		return "", 2, false
	}
	return pos[0], 0, true
}

// signalPIDFile sends sig to the process whose pid path holds.
func signalPIDFile(path string, sig syscall.Signal) (int, error) {
	pid, err := server.ReadPIDFile(path)
	if err != nil {
		return 0, err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return pid, fmt.Errorf("signal %d (from %s): %w", pid, path, err)
	}
	return pid, nil
}

// alive reports whether process pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
