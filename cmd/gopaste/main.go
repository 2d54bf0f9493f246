// Command gopaste serves, checks and explores PasteDeploy-style configs.
// Run "gopaste" with no arguments for the list of commands.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Main(&cli.Env{
		Context:   ctx,
		Hangup:    notify(syscall.SIGHUP),  // reload
		Reopen:    notify(syscall.SIGUSR1), // reopen log files; must not kill, as Go's default would
		Upgrade:   notify(syscall.SIGUSR2), // zero-downtime binary upgrade
		Workers:   workers(),               // SIGTTIN, SIGTTOU: one worker more, one fewer
		SetLogger: slog.SetDefault,
	}, os.Args[1:]))
}

// workers turns SIGTTIN into +1 and SIGTTOU into -1, each signal counted
// (up to 64 waiting).
func workers() <-chan int {
	c := make(chan os.Signal, 64)
	signal.Notify(c, syscall.SIGTTIN, syscall.SIGTTOU)
	out := make(chan int, 64)
	go func() { // lives as long as the process
		for sig := range c {
			d := 1
			if sig == syscall.SIGTTOU {
				d = -1
			}
			select {
			case out <- d:
			default:
			}
		}
	}()
	return out
}

// notify turns sig into a channel of requests; requests arriving while
// one waits are merged into it.
func notify(sig os.Signal) <-chan struct{} {
	c := make(chan os.Signal, 1)
	signal.Notify(c, sig)
	out := make(chan struct{}, 1)
	go func() { // lives as long as the process
		for range c {
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out
}
