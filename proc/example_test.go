package proc_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

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
