package cli

import (
	"fmt"

	"github.com/gopaste/gopaste/deploy"
)

func runCheck(e *Env, args []string) int {
	fs := newFlags(e, "check", "CONFIG [var=value ...]")
	pos, err := parse(fs, args)
	if err != nil {
		return exitFlagErr(err)
	}
	path, global, ok := configArgs(e, "check", pos)
	if !ok {
		return 2
	}
	logger := newLogger(e.Stderr, false)
	rep, err := deploy.Check(path, deploy.Options{Registry: e.Registry, Logger: logger, Global: global})
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
		fmt.Fprintf(e.Stderr, "%d error(s):\n", len(rep.Errs))
		for _, err := range rep.Errs {
			fmt.Fprintf(e.Stderr, "error: %v\n", err)
		}
	}
}

// configArgs splits positional arguments into the config path and
// var=value globals.
func configArgs(e *Env, cmd string, pos []string) (string, map[string]string, bool) {
	global := map[string]string{}
	path := ""
	for _, a := range pos {
		if k, v, ok := cutVar(a); ok {
			global[k] = v
			continue
		}
		if path != "" {
			fmt.Fprintf(e.Stderr, "gopaste %s: unexpected argument %q\n", cmd, a)
			return "", nil, false
		}
		path = a
	}
	if path == "" {
		fmt.Fprintf(e.Stderr, "gopaste %s: a CONFIG file is required\n", cmd)
		return "", nil, false
	}
	return path, global, true
}

func cutVar(a string) (string, string, bool) {
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case '=':
			return a[:i], a[i+1:], i > 0
		case '/', '.':
			return "", "", false
		}
	}
	return "", "", false
}
