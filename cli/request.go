package cli

import (
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/server"
)

// headerFlags collects repeated -H 'Name: value' options.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func runRequest(e *Env, args []string) int {
	fs := newFlags(e, "request", "CONFIG URL [-X METHOD] [-d DATA] [-H 'Name: value']...")
	method := fs.String("X", "", "the request method (default GET, or POST with -d)")
	data := fs.String("d", "", "the request body (form-encoded unless -H sets Content-Type)")
	appName := fs.String("app", "main", "the app section to run")
	var hdrs headerFlags
	fs.Var(&hdrs, "H", "a request header 'Name: value' (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitFlagErr(err)
	}
	if len(pos) != 2 {
		fmt.Fprintln(e.Stderr, "gopaste request: want CONFIG and URL")
		return 2
	}
	con := &server.Console{Method: *method, URL: pos[1], Out: e.Stdout}
	dataSet := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "d" {
			dataSet = true
		}
	})
	if dataSet {
		con.Body = []byte(*data)
	}
	for _, h := range hdrs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			fmt.Fprintf(e.Stderr, "gopaste request: -H %q is not 'Name: value'\n", h)
			return 2
		}
		if con.Header == nil {
			con.Header = http.Header{}
		}
		con.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	app, err := deploy.BuildApp(pos[0], *appName, deploy.Options{Registry: e.Registry, Logger: newLogger(e.Stderr, false)})
	if err != nil {
		printErrors(e.Stderr, err)
		return 1
	}
	defer app.Close()
	if _, err := con.Do(app.Handler); err != nil {
		fmt.Fprintf(e.Stderr, "gopaste request: %v\n", err)
		return 1
	}
	return 0
}
