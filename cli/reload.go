package cli

import (
	"fmt"
	"syscall"
)

// runReload sends SIGHUP to the process in a pid file: it rereads its
// config, and logs why when the new one does not load (the old one goes
// on serving).
func runReload(e *Env, args []string) int {
	fs := newFlags(e, "reload", "PIDFILE")
	pidfile, code, ok := pidFileArg(e, "reload", fs, args)
	if !ok {
		return code
	}
	pid, err := signalPIDFile(pidfile, syscall.SIGHUP)
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste reload: %v\n", err)
		return 1
	}
	fmt.Fprintf(e.Stdout, "asked %d to reload; its log says how it went\n", pid)
	return 0
}
