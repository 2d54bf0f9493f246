// Command mygopaste is gopaste with the example parts of
// docs/extending/example added: every built-in part, plus the hello app,
// the count filter, the line protocol and server, and the shelf store.
//
// It stops on SIGINT and SIGTERM. cmd/gopaste/main.go also turns SIGHUP
// into a reload and SIGUSR1 into reopening log files (cli.Env's Hangup
// and Reopen); a binary that needs those starts from that file instead.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/cli"
	_ "github.com/gopaste/gopaste/docs/extending/example"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Main(&cli.Env{Context: ctx, SetLogger: slog.SetDefault}, os.Args[1:]))
}
