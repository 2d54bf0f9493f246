package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/middleware/accesslog"
)

// logFlags are serve's --log-level, --log-format and --log-file; they win
// over the config's log_level, log_format and log_file.
type logFlags struct {
	level, format, file string
}

func (f *logFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.level, "log-level", "", "debug, info, warn or error (default: the config's log_level, else info)")
	fs.StringVar(&f.format, "log-format", "", "text or json (default: the config's log_format, else text)")
	fs.StringVar(&f.file, "log-file", "", "append the log to this file, reopened on SIGUSR1 (default: the config's log_file, else stderr)")
}

func (f *logFlags) check() error {
	if f.level != "" && !slices.Contains([]string{"debug", "info", "warn", "error"}, f.level) {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", f.level)
	}
	if f.format != "" && f.format != "text" && f.format != "json" {
		return fmt.Errorf("--log-format %q: want text or json", f.format)
	}
	return nil
}

// logOutput is where serve's log goes: level, format and file come from
// the flags, else from the loaded generation's log keys, and may change
// with each reload. Loggers made from its handler before a change (the
// parts' loggers) follow it. It is safe for concurrent use.
type logOutput struct {
	flags  logFlags
	stderr io.Writer
	level  slog.LevelVar
	h      atomic.Pointer[slog.Handler]

	mu   sync.Mutex // guards file
	file *accesslog.File
}

func newLogOutput(stderr io.Writer, flags logFlags) *logOutput {
	o := &logOutput{flags: flags, stderr: stderr}
	o.set(deploy.LogConfig{}, stderr)
	return o
}

// handler returns a handler writing to the current output.
func (o *logOutput) handler() slog.Handler { return &switchHandler{out: o} }

func (o *logOutput) set(lc deploy.LogConfig, w io.Writer) {
	level := first(o.flags.level, lc.Level, "info")
	o.level.Set(map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo,
		"warn": slog.LevelWarn, "error": slog.LevelError}[level])
	opts := &slog.HandlerOptions{Level: slog.LevelDebug} // the switch filters
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if first(o.flags.format, lc.Format, "text") == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	o.h.Store(&h)
}

// apply switches to what lc says, where no flag says otherwise. A new
// log file is opened before the old one is closed; an error leaves the
// output as it was.
func (o *logOutput) apply(lc deploy.LogConfig) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	path, origin := lc.File, lc.FileOrigin
	if o.flags.file != "" {
		path, origin = o.flags.file, "--log-file"
	}
	var w io.Writer = o.stderr
	old := o.file
	switch {
	case path == "":
		o.file = nil
	case old != nil && old.Path() == path:
		w, old = old, nil
	default:
		f, err := accesslog.OpenFile(path)
		if err != nil {
			return fmt.Errorf("%s: log_file: %w", origin, err)
		}
		o.file, w = f, f
	}
	o.set(lc, w)
	if old != nil {
		old.Close()
	}
	return nil
}

// reopen reopens the log file, if there is one (SIGUSR1, logrotate).
func (o *logOutput) reopen() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return nil
	}
	return o.file.Reopen()
}

// close goes back to stderr and closes the log file.
func (o *logOutput) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var h slog.Handler = slog.NewTextHandler(o.stderr, nil)
	o.h.Store(&h)
	if o.file == nil {
		return nil
	}
	err := o.file.Close()
	o.file = nil
	return err
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// switchHandler sends records to the logOutput's current handler, with
// the attributes and groups added to it replayed there.
type switchHandler struct {
	out *logOutput
	ops []logOp
}

// logOp is one WithGroup (group set) or WithAttrs call.
type logOp struct {
	group string
	attrs []slog.Attr
}

func (s *switchHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= s.out.level.Level()
}

func (s *switchHandler) Handle(ctx context.Context, r slog.Record) error {
	h := *s.out.h.Load()
	for _, op := range s.ops {
		if op.group != "" {
			h = h.WithGroup(op.group)
		} else {
			h = h.WithAttrs(op.attrs)
		}
	}
	return h.Handle(ctx, r)
}

func (s *switchHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return s
	}
	return &switchHandler{out: s.out, ops: append(slices.Clip(s.ops), logOp{attrs: attrs})}
}

func (s *switchHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return s
	}
	return &switchHandler{out: s.out, ops: append(slices.Clip(s.ops), logOp{group: name})}
}
