package cli

import (
	"log/slog"
	"os"
	"runtime"

	"github.com/gopaste/gopaste/process"
)

// sizeProcs gives the Go runtime half the CPUs (at least one) while the
// config runs workers that each keep a CPU busy (the wsgi app's Python
// workers: process.Supervised), and all of them otherwise; GOMAXPROCS in
// the environment wins.
//
// A Go runtime sized to every CPU keeps threads spare that wake to look
// for work, taking CPU time from the workers. Measured on the 2-core VM
// of docs/benchmarks.md, one P instead of two served 26% more requests
// to Python workers on the hello app and 8% more on a Flask page, at a
// tenth to a third less CPU a request. With Go workers (the process
// app's bench/uwsgiworker) it served 7% fewer, so the process app does
// not ask for it.
func sizeProcs(logger *slog.Logger) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	before := runtime.GOMAXPROCS(0)
	runtime.SetDefaultGOMAXPROCS()
	workers := process.Supervised()
	want := procsFor(runtime.GOMAXPROCS(0), workers)
	if want != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(want)
	}
	if want != before {
		logger.Info("GOMAXPROCS set", "gomaxprocs", want, "cpus", runtime.NumCPU(), "local_workers", workers)
	}
}

// procsFor is the GOMAXPROCS for a runtime whose default is def while
// workers local worker processes run.
func procsFor(def, workers int) int {
	if workers == 0 {
		return def
	}
	return max(1, def/2)
}
