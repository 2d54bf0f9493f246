package proc

import (
	"os/exec"
	"syscall"
	"time"
)

// OS is the operating system as this package uses it. [System] returns
// the real one; tests build one with some functions replaced. Every
// function must be set.
type OS struct {
	// Start starts cmd, already configured (process group, files,
	// environment), and returns its pid.
	Start func(cmd *exec.Cmd) (pid int, err error)
	// Exited blocks until process pid has exited but leaves it unreaped,
	// so that its pid, and so its process group id, cannot be reused
	// yet. It reports false when it cannot do that; the caller then reaps
	// first.
	Exited func(pid int) bool
	// Wait reaps the started cmd and waits for its output to be copied
	// ([exec.Cmd.Wait]).
	Wait func(cmd *exec.Cmd) error
	// Kill sends sig to pid, or to process group -pid when pid is
	// negative ([syscall.Kill]).
	Kill func(pid int, sig syscall.Signal) error
	// Now and After are the clock ([time.Now], [time.After]).
	Now   func() time.Time
	After func(d time.Duration) <-chan time.Time
}

// System returns the real operating system. Each call returns a new
// value, which the caller may change.
func System() *OS {
	return &OS{
		Start: func(cmd *exec.Cmd) (int, error) {
			if err := cmd.Start(); err != nil {
				return 0, err
			}
			return cmd.Process.Pid, nil
		},
		Exited: waitNoReap,
		Wait:   (*exec.Cmd).Wait,
		Kill:   syscall.Kill,
		Now:    time.Now,
		After:  time.After,
	}
}
