//go:build unix && !linux

package proc

import "syscall"

// setParentDeath does nothing: there is no parent-death signal here.
func setParentDeath(a *syscall.SysProcAttr, sig syscall.Signal) {}

// waitNoReap is not available here: the caller reaps the leader first
// and signals its group after.
func waitNoReap(pid int) bool { return false }
