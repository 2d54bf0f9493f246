// Command altdemo is Quixote's Altdemo as a program of its own: a
// gopaste binary holding the parts the demo needs, and no others. Each
// import registers its parts (the altdemo app, the session filter and
// two of its stores, every server); cli.Main is gopaste's command line,
// so the program serves, checks and explores configs as gopaste does:
//
//	go run ./examples/altdemo serve examples/altdemo/altdemo.ini
//
// and opens http://127.0.0.1:8080/. The same config runs under any of
// gopaste's servers: see altdemo.ini and docs/apps.md.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/gopaste/gopaste/apps/altdemo"
	_ "github.com/gopaste/gopaste/cgi"
	"github.com/gopaste/gopaste/cli"
	_ "github.com/gopaste/gopaste/fastcgi"
	_ "github.com/gopaste/gopaste/scgi"
	_ "github.com/gopaste/gopaste/server"
	_ "github.com/gopaste/gopaste/session"
	_ "github.com/gopaste/gopaste/session/filestore"
	_ "github.com/gopaste/gopaste/session/sqlitestore"
	_ "github.com/gopaste/gopaste/uwsgi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hangup := make(chan os.Signal, 1)
	signal.Notify(hangup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() { // lives as long as the process
		for range hangup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	os.Exit(cli.Main(&cli.Env{Context: ctx, Hangup: reload, SetLogger: slog.SetDefault}, os.Args[1:]))
}
