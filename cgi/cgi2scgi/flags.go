package cgi2scgi

import (
	"flag"
	"fmt"

	"github.com/gopaste/gopaste/cli"
)

func newFlagSet(e *cli.Env) *flag.FlagSet {
	fs := flag.NewFlagSet("cgi2scgi", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "Usage: gopaste cgi2scgi [--addr host:port|unix:/path] [--timeout D]\n\n"+
			"Runs as a CGI program: forwards the request in the environment and stdin\n"+
			"to an SCGI server and writes its reply to stdout as CGI output.\n\nOptions:\n")
		fs.PrintDefaults()
	}
	return fs
}
