//go:build unix

package accesslog

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// The open Files, reopened together on SIGUSR1. One goroutine waits for
// the signal while at least one File is open; closing the last File stops
// it (watchers.stop is closed and the goroutine returns).
var watchers struct {
	mu    sync.Mutex
	files map[*File]bool
	stop  chan struct{}
	done  chan struct{}
}

func watch(lf *File) {
	watchers.mu.Lock()
	defer watchers.mu.Unlock()
	if watchers.files == nil {
		watchers.files = make(map[*File]bool)
	}
	watchers.files[lf] = true
	if len(watchers.files) == 1 {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR1)
		stop, done := make(chan struct{}), make(chan struct{})
		watchers.stop, watchers.done = stop, done
		go func() {
			defer close(done)
			defer signal.Stop(ch)
			for {
				select {
				case <-ch:
					reopenAll()
				case <-stop:
					return
				}
			}
		}()
	}
}

func unwatch(lf *File) {
	watchers.mu.Lock()
	if !watchers.files[lf] {
		watchers.mu.Unlock()
		return
	}
	delete(watchers.files, lf)
	var done chan struct{}
	if len(watchers.files) == 0 {
		close(watchers.stop)
		done = watchers.done
	}
	watchers.mu.Unlock()
	if done != nil {
		<-done
	}
}

func reopenAll() {
	watchers.mu.Lock()
	files := make([]*File, 0, len(watchers.files))
	for f := range watchers.files {
		files = append(files, f)
	}
	watchers.mu.Unlock()
	for _, f := range files {
		if err := f.Reopen(); err != nil {
			// No logger here: the next write to the old file still
			// works, and stderr is where a log file's trouble goes.
			os.Stderr.WriteString("accesslog: reopen " + f.path + ": " + err.Error() + "\n")
		}
	}
}
