package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gopaste/gopaste/admin"
)

// The status command registers itself: cli.go's init, which makes the
// command list, runs first (files initialize in name order).
func init() {
	AddCommand("status", "print a server's status from its admin listener (admin = HOST:PORT)", runStatus)
}

func runStatus(e *Env, args []string) int {
	fs := newFlags(e, "status", "ADMIN_URL [--json] [--watch [--interval D] [--count N]]")
	watch := fs.Bool("watch", false, "refresh like top until Ctrl-C (or --count refreshes)")
	interval := fs.Duration("interval", 2*time.Second, "how often --watch refreshes")
	count := fs.Int("count", 0, "with --watch, stop after this many refreshes (0: until Ctrl-C)")
	asJSON := fs.Bool("json", false, "print the status as JSON (what /status.json serves)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitFlagErr(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.Stderr, "gopaste status: want ADMIN_URL (http://HOST:PORT, HOST:PORT or unix:PATH)")
		return 2
	}
	if *interval < 100*time.Millisecond {
		fmt.Fprintln(e.Stderr, "gopaste status: --interval must be at least 100ms")
		return 2
	}
	ctx := e.Context
	show := func(clear bool) bool {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := admin.Fetch(fctx, pos[0])
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(e.Stderr, "gopaste status: %v\n", err)
			}
			return false
		}
		if clear {
			fmt.Fprint(e.Stdout, "\x1b[H\x1b[2J") // home, clear: top's refresh
		}
		if *asJSON {
			enc := json.NewEncoder(e.Stdout)
			enc.SetIndent("", "  ")
			enc.Encode(s) // a Snapshot always encodes; a closed stdout is the caller's
			return true
		}
		admin.WriteText(e.Stdout, s)
		return true
	}
	if !*watch {
		if !show(false) {
			return 1
		}
		return 0
	}
	t := time.NewTicker(*interval)
	defer t.Stop()
	// A failed fetch (the server restarting) is reported and retried at
	// the next refresh; the status is that of the last one.
	for n := 1; ; n++ {
		ok := show(true)
		if *count > 0 && n >= *count || ctx.Err() != nil {
			if !ok && ctx.Err() == nil {
				return 1
			}
			return 0
		}
		select {
		case <-ctx.Done():
			return 0
		case <-t.C:
		}
	}
}
