//go:build linux

package proc

import "golang.org/x/sys/unix"

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
