// Package proc runs child processes: it starts one in its own process
// group (with inherited listeners as extra files, fd 3 onwards), logs
// each line of its output with its pid, waits until it listens
// ([Process.WaitDial]), stops it with a signal and kills what is left of
// its group after a grace period, waits for it with a deadline, and keeps
// one running with [Restart] (exponential backoff, reset after a stable
// run).
//
// The process group is the unit: when the leader exits, whatever it
// left behind in its group is killed, and [Process.Stop] signals the
// whole group. On Linux the group is killed while the exited leader is
// still unreaped, so its pid (the group id) cannot have been reused.
//
// Every call into the operating system (start, wait, signal, the clock)
// goes through an [OS], a struct of functions that tests replace to run
// this package's logic without processes, as cloudflare/tableflip does.
//
// A child started with [Cmd].ListenEnv finds its listeners with
// [Listeners], the way a socket-activated systemd service does
// (LISTEN_FDS, LISTEN_PID).
//
// Only Unix is supported.
package proc
