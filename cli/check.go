package cli

import (
	"errors"
	"fmt"
	"strings"

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
	if py := pythonSections(rep.Trees); len(py) > 0 {
		fmt.Fprintf(e.Stdout, "\nserved by Python (PasteDeploy, in wsgi apps): %s; Go serves the other sections\n", strings.Join(py, ", "))
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

// pythonSections lists the sections the trees hand to Python, once
// each, as their wsgi apps' paste keys say ("[app:main]", "[pipeline:main]
// from egg:x#f on").
func pythonSections(trees []*deploy.Node) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n *deploy.Node)
	walk = func(n *deploy.Node) {
		if n.Python != nil {
			for _, e := range n.Python.Local {
				if e.Key != "paste" {
					continue
				}
				name := strings.TrimSuffix(strings.TrimSuffix(e.Origin, " handed to Python"), ",")
				if !seen[name] {
					seen[name] = true
					out = append(out, name)
				}
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, n := range trees {
		walk(n)
	}
	return out
}
