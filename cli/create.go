package cli

import (
	"fmt"
	"strings"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/skeleton"
)

// The create and templates commands register themselves, as status does.
func init() {
	AddCommand("create", "write a new project from a template (gopaste templates lists them)", runCreate)
	AddCommand("templates", "list the templates of gopaste create", runTemplates)
}

// varFlags collects repeated --var NAME=VALUE flags.
type varFlags skeleton.Vars

func (v varFlags) String() string { return "" }

func (v varFlags) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=VALUE, not %q", s)
	}
	v[k] = val
	return nil
}

func runCreate(e *Env, args []string) int {
	fs := newFlags(e, "create", "--template NAME DIR [--var NAME=VALUE ...] [--force]")
	name := fs.String("template", "", "the template: "+strings.Join(skeleton.Names(), ", "))
	vars := varFlags{}
	fs.Var(vars, "var", "set a template variable, `NAME=VALUE` (name, module, host, port, ...); repeatable")
	force := fs.Bool("force", false, "write into DIR even when it is not empty (replacing the template's files)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitFlagErr(err)
	}
	if *name == "" || len(pos) != 1 {
		fmt.Fprintln(e.Stderr, "gopaste create: want --template NAME and one DIR (gopaste templates lists the templates)")
		return 2
	}
	if _, ok := skeleton.Lookup(*name); !ok {
		fmt.Fprintf(e.Stderr, "gopaste create: no template %q%s; gopaste templates lists them\n", *name, registry.DidYouMean(*name, skeleton.Names()))
		return 2
	}
	written, err := skeleton.Create(skeleton.Options{Template: *name, Dir: pos[0], Vars: skeleton.Vars(vars), Force: *force})
	if err != nil {
		fmt.Fprintf(e.Stderr, "gopaste create: %v\n", strings.TrimPrefix(err.Error(), "skeleton: "))
		return 1
	}
	for _, p := range written {
		fmt.Fprintf(e.Stdout, "  %s\n", p)
	}
	fmt.Fprintf(e.Stdout, "created %s from template %s; its README.md says what next\n", pos[0], *name)
	return 0
}

func runTemplates(e *Env, args []string) int {
	fs := newFlags(e, "templates", "")
	if pos, err := parse(fs, args); err != nil || len(pos) > 0 {
		if err != nil {
			return exitFlagErr(err)
		}
		fmt.Fprintln(e.Stderr, "gopaste templates: takes no arguments")
		return 2
	}
	for _, t := range skeleton.List() {
		fmt.Fprintf(e.Stdout, "%-8s %s\n", t.Name, t.Summary)
	}
	return 0
}
