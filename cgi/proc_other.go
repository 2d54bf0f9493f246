//go:build unix && !linux

package cgi

// waitNoReap is not available here; the caller reaps the script first and
// signals its group after.
func waitNoReap(pid int) bool { return false }
