//go:build linux

package proc

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// setParentDeath has the kernel send sig to the child when this process
// dies without stopping it (killed with SIGKILL, a test binary's
// timeout), so that no leader outlives gopaste with pid 1 as its parent;
// the leader's sig (its StopSignal) lets it stop its own children. The
// kernel ties it to the forking thread, which the Go runtime only ends
// for a goroutine that exits locked to it (none here).
func setParentDeath(a *syscall.SysProcAttr, sig syscall.Signal) { a.Pdeathsig = sig }

// waitNoReap blocks until process pid has exited, leaving it a zombie so
// that its pid (and so its process group id) cannot be reused before the
// caller has signalled the group. It reports false when it could not
// wait (the caller then reaps first and signals after).
func waitNoReap(pid int) bool {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		return err == nil
	}
}
