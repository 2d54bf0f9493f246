package proc

import (
	"context"
	"log/slog"
	"time"
)

// Restart keeps one process running: Run starts it, waits for it to
// exit, and starts it again after a delay that doubles after each
// failure up to MaxDelay, and falls back to MinDelay after a run of at
// least Stable. The zero values of its fields are the defaults their
// comments name. A Restart must not be copied or run twice at once.
type Restart struct {
	// Start starts the process; ctx is Run's.
	Start func(ctx context.Context) (*Process, error)
	// MinDelay is the first restart delay; zero means 100ms.
	MinDelay time.Duration
	// MaxDelay bounds the delay; zero means 30s.
	MaxDelay time.Duration
	// Stable is how long a run must last to reset the delay; zero
	// means 10s.
	Stable time.Duration
	// Expected, when set, reports whether p's exit was asked for (a
	// recycle): such a process is started again at once, without a
	// warning and without growing the delay.
	Expected func(p *Process) bool
	// Logger gets "process exited" and "start failed" (Warn); nil means
	// slog.Default().
	Logger *slog.Logger
	// OS is the clock (Now, After); nil means [System]().
	OS *OS
}

// Run keeps the process running until ctx ends, then stops it (see
// [Process.Stop]) and returns nil.
func (r *Restart) Run(ctx context.Context) error {
	sys, log := r.OS, r.Logger
	if sys == nil {
		sys = System()
	}
	if log == nil {
		log = slog.Default()
	}
	minDelay, maxDelay, stable := orDefault(r.MinDelay, 100*time.Millisecond),
		orDefault(r.MaxDelay, 30*time.Second), orDefault(r.Stable, 10*time.Second)
	delay := minDelay
	for ctx.Err() == nil {
		begin := sys.Now()
		p, err := r.Start(ctx)
		if err != nil {
			log.Warn("start failed", "err", err, "retry_in", delay)
		} else {
			select {
			case <-p.Done():
			case <-ctx.Done():
				p.Stop() // its exit is the one we asked for
				return nil
			}
			if r.Expected != nil && r.Expected(p) {
				continue
			}
			if sys.Now().Sub(begin) >= stable {
				delay = minDelay
			}
			log.Warn("process exited", "pid", p.Pid(), "status", ExitStatus(p.Err()), "restart_in", delay)
		}
		select {
		case <-ctx.Done():
		case <-sys.After(delay):
		}
		delay = min(2*delay, maxDelay)
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
