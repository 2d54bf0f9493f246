package proc_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gopaste/gopaste/proc"
)

func Example() {
	// Log lines without the time and the pid, which change every run.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "pid" {
				return slog.Attr{}
			}
			return a
		},
	}))
	p, err := proc.Start(context.Background(), proc.Cmd{
		Path:   "/bin/sh",
		Args:   []string{"sh", "-c", "echo hello; echo world; exit 3"},
		Logger: log,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = p.Wait(context.Background())
	fmt.Println(proc.ExitStatus(err))
	// Output:
	// level=INFO msg=output stream=stdout line=hello
	// level=INFO msg=output stream=stdout line=world
	// exit status 3
}

func ExampleRestart() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "pid" {
				return slog.Attr{}
			}
			return a
		},
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := 0
	r := &proc.Restart{
		MinDelay: 10 * time.Millisecond,
		Logger:   log,
		Start: func(ctx context.Context) (*proc.Process, error) {
			if runs++; runs > 3 {
				cancel() // enough for the example
				return nil, errors.New("not again")
			}
			return proc.Start(ctx, proc.Cmd{Path: "/bin/sh", Args: []string{"sh", "-c", "echo run; exit 1"}, Logger: log})
		},
	}
	r.Run(ctx) // until ctx ends
	// Output:
	// level=INFO msg=output stream=stdout line=run
	// level=WARN msg="process exited" status="exit status 1" restart_in=10ms
	// level=INFO msg=output stream=stdout line=run
	// level=WARN msg="process exited" status="exit status 1" restart_in=20ms
	// level=INFO msg=output stream=stdout line=run
	// level=WARN msg="process exited" status="exit status 1" restart_in=40ms
	// level=WARN msg="start failed" err="not again" retry_in=80ms
}
