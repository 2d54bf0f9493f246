package cli

import (
	"fmt"
	"net/http"

	"github.com/gopaste/gopaste/deploy"
)

func runRoute(e *Env, args []string) int {
	fs := newFlags(e, "route", "CONFIG URL")
	appName := fs.String("app", "main", "the app section to route through")
	method := fs.String("X", "GET", "the request method")
	pos, err := parse(fs, args)
	if err != nil {
		return exitFlagErr(err)
	}
	if len(pos) != 2 {
		fmt.Fprintln(e.Stderr, "gopaste route: want CONFIG and URL")
		return 2
	}
	app, err := deploy.BuildApp(pos[0], *appName, deploy.Options{Registry: e.Registry, Logger: newLogger(e.Stderr, false)})
	if err != nil {
		printErrors(e.Stderr, err)
		return 1
	}
	defer app.Close()
	r, err := http.NewRequest(*method, pos[1], nil)
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste route: %v\n", err)
		return 2
	}
	if r.URL.Host != "" {
		r.Host = r.URL.Host
	} else {
		r.Host = "localhost"
	}
	app.Route(e.Stdout, r)
	return 0
}
