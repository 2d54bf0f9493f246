// Package cli is the gopaste command: serve, check, request, route, the
// part listings and version. Each subcommand runs in-process with its
// arguments and output streams, so tests call Main directly.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/gopaste/gopaste/docs"
	"github.com/gopaste/gopaste/internal/partdoc"
	"github.com/gopaste/gopaste/registry"
)

// Env is what a subcommand runs with.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Context is cancelled to stop "serve" (the binary cancels it on
	// SIGINT and SIGTERM); nil means never.
	Context  context.Context
	Registry *registry.Registry // nil means registry.Default
	// Hangup delivers reload requests to "serve" (SIGHUP in the binary);
	// may be nil.
	Hangup <-chan struct{}
	// Reopen delivers requests to reopen log files, for logrotate
	// (SIGUSR1 in the binary): "serve" reopens its own log file
	// (--log-file, log_file) and every file a part registered as a
	// deploy.Reopener (the access log's). May be nil.
	Reopen <-chan struct{}
	// Upgrade delivers requests for a zero-downtime binary upgrade to
	// "serve" (SIGUSR2 in the binary): it starts the executable anew with
	// the listener inherited and exits once the new process is ready.
	// May be nil.
	Upgrade <-chan struct{}
	// Workers delivers requests to change the number of workers by +1
	// or -1 (SIGTTIN and SIGTTOU in the binary, as gunicorn takes them):
	// a prefork master's own, or else those of every process and wsgi
	// app of the config; a config with neither logs and ignores them.
	// The next reload brings the count back to the config's. May be nil.
	Workers <-chan int
	// SetLogger, when set, is called with the logger "serve" made from
	// --log-level, --log-format, --log-file and the config's log keys,
	// once the config is loaded. The binary passes slog.SetDefault, so
	// that libraries logging through slog.Default follow the config.
	SetLogger func(*slog.Logger)
}

type command struct {
	name    string
	summary string
	run     func(e *Env, args []string) int
	detail  string // more of what --help says, after the summary
}

var commands []command

func init() {
	commands = []command{
		{"serve", "serve a config (or the built-in demo) until SIGINT/SIGTERM", runServe, ""},
		{"check", "load, resolve and build a config without serving; print the tree", runCheck, ""},
		{"request", "run one request through a config's app and print the raw response", runRequest, ""},
		{"route", "say which filters and apps a URL goes through", runRoute, ""},
		{"stop", "stop the gopaste serve whose pid file is PIDFILE, gracefully, and wait for it", runStop, ""},
		{"reload", "make the gopaste serve whose pid file is PIDFILE reload its config (SIGHUP)", runReload, ""},
		{"restart", "upgrade the gopaste serve whose pid file is PIDFILE to the installed binary with no downtime (SIGUSR2)", runRestart, ""},
		{"servers", "list the registered servers, or describe the ones named", listKind(registry.ServerKind), partsDetail("server")},
		{"apps", "list the registered apps and composites, or describe the ones named", listKind(registry.App, registry.Composite), partsDetail("app")},
		{"filters", "list the registered filters, or describe the ones named", listKind(registry.Filter), partsDetail("filter")},
		{"version", "print the version", runVersion, ""},
	}
}

// AddCommand adds a subcommand (packages such as cgi2scgi's register
// theirs from init).
func AddCommand(name, summary string, run func(e *Env, args []string) int) {
	commands = append(commands, command{name, summary, run, ""})
}

// Main runs the command line args (without the program name) and returns
// the exit status.
func Main(e *Env, args []string) int {
	if e.Stdout == nil {
		e.Stdout = os.Stdout
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	if e.Stdin == nil {
		e.Stdin = os.Stdin
	}
	if e.Context == nil {
		e.Context = context.Background()
	}
	if e.Registry == nil {
		e.Registry = registry.Default
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		args = append([]string{"version"}, args[1:]...) // as other programs take it
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	fmt.Fprintf(e.Stderr, "gopaste: unknown command %q%s\n\n", args[0], registry.DidYouMean(args[0], names))
	usage(e.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "gopaste composes apps, filters and servers from PasteDeploy-style ini files.")
	fmt.Fprintln(w, "\nUsage: gopaste COMMAND [options] [args]\n\nCommands:")
	cs := append([]command(nil), commands...)
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun gopaste COMMAND --help for a command's options.")
}

// parse parses flags interspersed with positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func newFlags(e *Env, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "Usage: gopaste %s\n", strings.TrimSpace(name+" "+usageLine))
		for _, c := range commands {
			if c.name == name {
				fmt.Fprintf(e.Stderr, "\n%s.\n", strings.ToUpper(c.summary[:1])+c.summary[1:])
				if c.detail != "" {
					fmt.Fprintf(e.Stderr, "\n%s\n", c.detail)
				}
			}
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(e.Stderr, "\nOptions:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// exitFlagErr maps a flag parse error to an exit status: --help is 0.
func exitFlagErr(err error) int {
	if err == flag.ErrHelp {
		return 0
	}
	return 2
}

// Version is the module version the binary was built from.
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				if v == "" || v == "(devel)" {
					v = "devel"
				}
				v += "+" + s.Value[:12]
			}
		}
		if v != "" {
			return v
		}
	}
	return "devel"
}

func runVersion(e *Env, args []string) int {
	fs := newFlags(e, "version", "")
	if _, err := parse(fs, args); err != nil {
		return exitFlagErr(err)
	}
	bi, _ := debug.ReadBuildInfo()
	gov := ""
	if bi != nil {
		gov = bi.GoVersion
	}
	fmt.Fprintf(e.Stdout, "gopaste %s (%s)\n", Version(), gov)
	return 0
}

// partsDetail is what --help says of "gopaste apps" and friends.
func partsDetail(kind string) string {
	comp := ""
	if kind == "app" {
		comp = ` ("(composite)" after a
composite's)`
	}
	return fmt.Sprintf(`Without NAME: one line per %s, with its name%s, its aliases in
brackets and what it does.
With NAME (a name or an alias such as egg:Paste#NAME): that %s's kind,
description, aliases and the section that uses it. Its keys are documented
with it in gopaste's docs; "gopaste check" reports a key it does not know.`, kind, comp, kind)
}

func listKind(kinds ...registry.Kind) func(e *Env, args []string) int {
	return func(e *Env, args []string) int {
		fs := newFlags(e, kinds[0].String()+"s", "[NAME ...]")
		names, err := parse(fs, args)
		if err != nil {
			return exitFlagErr(err)
		}
		if len(names) > 0 {
			return describeParts(e, kinds[0], names)
		}
		var parts []*registry.Part
		for _, k := range kinds {
			parts = append(parts, e.Registry.Parts(k)...)
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i].Name < parts[j].Name })
		for _, p := range parts {
			line := p.Name
			if p.Kind == registry.Composite {
				line += " (composite)"
			}
			if len(p.Aliases) > 0 {
				line += " [" + strings.Join(p.Aliases, ", ") + "]"
			}
			fmt.Fprintf(e.Stdout, "%-40s %s\n", line, p.Description)
		}
		return 0
	}
}

// describeParts prints the parts of kind k called names: what the
// registry keeps (name, aliases, description) and what docs/*.md says
// (the section documenting the part, its first paragraph and its keys
// tables, found by internal/partdoc: the tables docs/keys_test.go checks
// against the keys each factory asks for). A name that is no part of kind
// k is an error that says which kind has it, or which name is close.
func describeParts(e *Env, k registry.Kind, names []string) int {
	code := 0
	for i, name := range names {
		p, ok := e.Registry.Lookup(k, name)
		if !ok {
			code = 1
			msg := fmt.Sprintf("gopaste: no %s %q", k, name)
			other := ""
			for _, ok2 := range []registry.Kind{registry.App, registry.Filter, registry.ServerKind} {
				if ok2 == k {
					continue
				}
				if q, ok := e.Registry.Lookup(ok2, name); ok {
					other = fmt.Sprintf("; %q is a %s (gopaste %ss %s)", name, q.Kind, ok2, name)
					break
				}
			}
			if other == "" {
				other = registry.DidYouMean(name, e.Registry.Names(k))
			}
			fmt.Fprintf(e.Stderr, "%s%s\n", msg, other)
			continue
		}
		if i > 0 {
			fmt.Fprintln(e.Stdout)
		}
		fmt.Fprintf(e.Stdout, "%s (%s)\n", p.Name, p.Kind)
		if p.Description != "" {
			fmt.Fprintf(e.Stdout, "  %s\n", p.Description)
		}
		if len(p.Aliases) > 0 {
			fmt.Fprintf(e.Stdout, "  aliases: %s\n", strings.Join(p.Aliases, ", "))
		}
		fmt.Fprintf(e.Stdout, "  in a config:\n    [%s:NAME]\n    use = %s\n", p.Kind, p.Name)
		describeKeys(e.Stdout, p)
	}
	return code
}

// describeKeys prints where docs/*.md documents p, the section's first
// paragraph, and its keys tables in aligned columns.
func describeKeys(w io.Writer, p *registry.Part) {
	s, ok := partdoc.Find(docs.Pages, p.Kind.String(), append([]string{p.Name}, p.Aliases...)...)
	if !ok {
		fmt.Fprintf(w, "  keys: not in gopaste's docs (a part of a plug-in documents its own)\n")
		return
	}
	fmt.Fprintf(w, "  docs: docs/%s#%s\n", s.Page, s.Anchor)
	if s.Summary != "" {
		wrap(w, s.Summary, "    ", 76)
	}
	if len(s.Tables) == 0 {
		fmt.Fprintf(w, "  keys: none documented in docs/%s, %q\n", s.Page, partdoc.Clean(s.Heading))
		return
	}
	for _, t := range s.Tables {
		fmt.Fprintf(w, "  keys (docs/%s, %q):\n", t.Page, partdoc.Clean(t.Heading))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if t.HasDefault {
			fmt.Fprintln(tw, "    key\tdefault\tmeaning")
		} else {
			fmt.Fprintln(tw, "    key\tmeaning")
		}
		for _, k := range t.Keys {
			if !t.HasDefault {
				fmt.Fprintf(tw, "    %s\t%s\n", k.Text, k.Meaning)
				continue
			}
			def, meaning := k.Default, k.Meaning
			switch {
			case def == "":
				def = "-"
			case len(def) > maxDefault:
				// A long default would push every meaning right.
				def, meaning = "(see meaning)", meaning+"; default: "+def
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", k.Text, def, meaning)
		}
		tw.Flush()
	}
}

// maxDefault is the widest default describeKeys prints in its column;
// a longer one follows the meaning.
const maxDefault = 24

// wrap writes text in lines of at most width bytes (a longer word gets a
// line of its own), each starting with indent.
func wrap(w io.Writer, text, indent string, width int) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		fmt.Fprintln(w, line)
	}
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	lvl := slog.LevelInfo
	if verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}
