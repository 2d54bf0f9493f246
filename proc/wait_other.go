//go:build unix && !linux

package proc

// waitNoReap is not available here: the caller reaps the leader first
// and signals its group after.
func waitNoReap(pid int) bool { return false }
