// Command mysite is the site docs/tutorial.md builds: gopaste with every
// built-in part, plus one app of its own, "notes".
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterApp("notes", newNotes, "the tutorial's notes: log in, write notes kept in your session")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Main(&cli.Env{Context: ctx, SetLogger: slog.SetDefault}, os.Args[1:]))
}
