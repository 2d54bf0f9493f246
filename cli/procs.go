package cli

import (
	"log/slog"
	"os"
	"runtime"

	"github.com/gopaste/gopaste/process"
)

// sizeProcs gives the Go runtime half the CPUs (at least one) while the
// config runs worker processes on this machine (the process and wsgi
// apps), and all of them otherwise; GOMAXPROCS in the environment wins.
//
// Each worker is busy on a CPU of its own while it computes a reply, and
// the Go runtime, which does not know of them, would otherwise size its
// scheduler to every CPU: its spare threads then wake to look for work
// and take CPU time from the workers. Measured on the 2-core VM of
// docs/benchmarks.md, one P instead of two served 25% more requests to
// Python workers (wsgi-hello), 9% more with a Flask page and 8% more to
// Go uwsgi workers (process-uwsgi), at a fifth to a third less CPU a
// request.
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
