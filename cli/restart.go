package cli

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/gopaste/gopaste/server"
)

// runRestart sends SIGUSR2 to the process in a pid file and waits for
// the outcome of the upgrade: the new process rewrites the pid file with
// its pid once ready (then the old one drains and exits); after a failed
// upgrade the old process rewrites it with its own pid and goes on
// serving.
func runRestart(e *Env, args []string) int {
	fs := newFlags(e, "restart", "PIDFILE [options]")
	timeout := fs.Duration("timeout", 90*time.Second, "how long to wait for the new process to be ready")
	pidfile, code, ok := pidFileArg(e, "restart", fs, args)
	if !ok {
		return code
	}
	before, err := os.Stat(pidfile)
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste restart: %v\n", err)
		return 1
	}
	old, err := signalPIDFile(pidfile, syscall.SIGUSR2)
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste restart: %v\n", err)
		return 1
	}
	deadline := time.Now().Add(*timeout)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		fi, err := os.Stat(pidfile)
		if err != nil || os.SameFile(before, fi) {
			if !alive(old) {
				fmt.Fprintf(e.Stderr, "gopaste restart: process %d exited and no new one wrote %s\n", old, pidfile)
				return 1
			}
			continue
		}
		pid, err := server.ReadPIDFile(pidfile)
		if err != nil {
			continue // being rewritten
		}
		if pid == old {
			fmt.Fprintf(e.Stderr, "gopaste restart: the upgrade failed; %d goes on serving (its log says why)\n", old)
			return 1
		}
		fmt.Fprintf(e.Stdout, "restarted: %d took over from %d, which drains and exits\n", pid, old)
		return 0
	}
	fmt.Fprintf(e.Stderr, "gopaste restart: no new process after %s; see the log of %d\n", *timeout, old)
	return 1
}
