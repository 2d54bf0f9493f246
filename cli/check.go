package cli

import (
	"errors"
	"fmt"

	"github.com/gopaste/gopaste/deploy"
)

func runCheck(e *Env, args []string) int {
	fs := newFlags(e, "check", "CONFIG [var=value ...]")
	ca, code, ok := parseConfigArgs(e, "check", fs, args, true)
	if !ok {
		return code
	}
	logger := newLogger(e.Stderr, false)
	rep, err := deploy.Check(ca.path, deploy.Options{Registry: e.Registry, Logger: logger, Global: ca.global})
	if err != nil {
		printErrors(e.Stderr, err)
		return 1
	}
	printReport(e, rep)
	if len(rep.Errs) > 0 {
		return 1
	}
	return 0
}

func printReport(e *Env, rep *deploy.Report) {
	if len(rep.Trees) > 0 {
		fmt.Fprintln(e.Stdout, "global config:")
		deploy.FprintGlobal(e.Stdout, rep.Trees[0])
	}
	for _, n := range rep.Trees {
		fmt.Fprintln(e.Stdout)
		deploy.Fprint(e.Stdout, n)
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprintln(e.Stdout, "\nwarnings:")
		for _, w := range rep.Warnings {
			fmt.Fprintf(e.Stdout, "  %s\n", w)
		}
	}
	if len(rep.Errs) > 0 {
		printErrors(e.Stderr, errors.Join(rep.Errs...))
	}
}
