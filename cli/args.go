package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// configArgs are the positional arguments of the commands that load a
// config ("serve" and "check"): the config file and NAME=VALUE globals,
// as paster serve takes them.
type configArgs struct {
	path   string
	global map[string]string
}

// parseConfigArgs parses args with fs (flags may come before, between or
// after the positional arguments). An argument NAME=VALUE whose NAME has
// no "/" sets a global (write ./a=b.ini for a file of that name); any
// other is the config file, of which there is at most one, and one when
// needPath is set. When the command must stop, ok is false and code is
// its exit status (0 after --help).
func parseConfigArgs(e *Env, cmd string, fs *flag.FlagSet, args []string, needPath bool) (ca configArgs, code int, ok bool) {
	pos, err := parse(fs, args)
	if err != nil {
		return ca, exitFlagErr(err), false
	}
	ca.global = map[string]string{}
	for _, a := range pos {
		if k, v, isVar := strings.Cut(a, "="); isVar && k != "" && !strings.Contains(k, "/") {
			ca.global[k] = v
			continue
		}
		if ca.path != "" {
			fmt.Fprintf(e.Stderr, "gopaste %s: more than one config: %s and %s\n", cmd, ca.path, a)
			return ca, 2, false
		}
		ca.path = a
	}
	if needPath && ca.path == "" {
		fmt.Fprintf(e.Stderr, "gopaste %s: a CONFIG file is required\n", cmd)
		return ca, 2, false
	}
	return ca, 0, true
}

// printErrors writes every error err holds, one "error: " line each,
// after their count, as "gopaste check" and "gopaste serve" report a
// config's errors.
func printErrors(w io.Writer, err error) {
	errs := flatten(err)
	fmt.Fprintf(w, "%d error(s):\n", len(errs))
	for _, e := range errs {
		fmt.Fprintf(w, "error: %v\n", e)
	}
}

// flatten lists the errors err joins (deploy.Error, errors.Join).
func flatten(err error) []error {
	u, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range u.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
