// Command gopaste serves, checks and explores PasteDeploy-style configs.
// Run "gopaste" with no arguments for the list of commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGUSR1 asks the access log to reopen its file (logrotate); with no
	// log file open it must not kill the process, as Go's default would.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGUSR1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	os.Exit(cli.Main(&cli.Env{Context: ctx, Hangup: reload}, os.Args[1:]))
}
