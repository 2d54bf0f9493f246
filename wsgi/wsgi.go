package wsgi

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gopaste/gopaste/process"
)

// workerPy is the Python worker, written to the runtime directory by New.
//
//go:embed worker.py
var workerPy []byte

// DefaultPython is the interpreter used when neither Python nor
// Virtualenv is set and it exists: Debian's, which has Debian's Python
// packages (python3-flask, python3-django...). Otherwise python3 is
// looked up in PATH.
const DefaultPython = "/usr/bin/python3"

// Options configure an App. Module or Paste is required; the zero values
// of the others are the defaults their comments name.
type Options struct {
	// Module is the application: "pkg.module:callable", where callable
	// (a dotted name) defaults to "application" and a name ending in
	// "()" is a factory called without arguments ("app:create_app()").
	Module string
	// Paste is a PasteDeploy URI, "config:development.ini#main" (a
	// relative file is found from Chdir), loaded with
	// paste.deploy.loadapp (Debian: python3-pastedeploy).
	Paste string
	// Python is the interpreter; empty means Virtualenv's bin/python3,
	// else DefaultPython when present, else python3 in PATH.
	Python string
	// PythonPath are directories put in front of sys.path, after Chdir.
	PythonPath []string
	// Virtualenv is a virtual environment's directory: its interpreter,
	// VIRTUAL_ENV and its bin first in PATH.
	Virtualenv string
	// Chdir is the workers' working directory, first in sys.path; empty
	// means this process's.
	Chdir string
	// Workers is how many worker processes serve; zero means
	// runtime.NumCPU(). wsgi.multiprocess is true when it is above 1.
	Workers int
	// Threads is how many requests each worker serves at once, each in
	// its own thread; zero means 1. wsgi.multithread is true when it is
	// above 1.
	Threads int
	// Preload imports the application once, in one Python process that
	// then forks Workers children sharing its socket; that process
	// restarts its children itself and applies Process.MaxRequests (with
	// MaxRequestsJitter) and Process.MemoryLimit to each.
	Preload bool
	// LoggingConfig is a file for Python's logging.config.fileConfig,
	// read before the application is imported when it has a [loggers]
	// section (as pserve does); empty means none.
	LoggingConfig string
	// Env are NAME=value variables added to the workers' environment.
	Env []string
	// Process tunes the supervisor (timeouts, recycling, queue, user).
	// New sets its Command, Protocol, Workers, Concurrency, Dir and
	// StartupPath, adds Env and the Python variables to its Env, and sets
	// its StackSignal to SIGUSR1 when zero.
	Process process.Options
	// Logger gets the supervisor's events and the workers' output; nil
	// means slog.Default().
	Logger *slog.Logger
}

// App serves a WSGI application with supervised Python workers. It is an
// http.Handler, safe for concurrent use; Close stops the workers.
type App struct {
	pool  *process.Pool
	dir   string
	files []string
	token string // marks the worker's replies meant for gopaste only
	// preload: one Python process forks the workers (Options.Preload)
	preload bool
	opts    Options // as Prepare completed them, for Start's errors

	mu      sync.Mutex
	workers int // the preloading master's children (AddWorkers)
}

// New writes the worker to a runtime directory, starts the workers and
// waits until every one has imported the application and listens:
// Prepare, then Start. An application that cannot be imported gives an
// error with the Python traceback.
func New(o Options) (*App, error) {
	a, err := Prepare(o)
	if err != nil {
		return nil, err
	}
	if err := a.Start(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Prepare checks o, writes the worker to a runtime directory and returns
// the app without starting a worker: Start starts them. The wsgi app's
// factory prepares while the config builds and starts once the whole
// config has built (registry.Config.OnStart), so that an error elsewhere
// in the config imports nothing. Close an app prepared and not started
// as any other.
func Prepare(o Options) (*App, error) {
	if (o.Module == "") == (o.Paste == "") {
		return nil, errors.New("wsgi: set exactly one of module and paste")
	}
	if o.Workers < 0 || o.Threads < 0 {
		return nil, errors.New("wsgi: negative workers or threads")
	}
	if o.Workers == 0 {
		o.Workers = runtime.NumCPU()
	}
	o.Threads = max(o.Threads, 1)
	python, err := FindPython(o.Python, o.Virtualenv)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gopaste-wsgi-")
	if err != nil {
		return nil, fmt.Errorf("wsgi: runtime directory: %w", err)
	}
	a := &App{dir: dir, token: token(), preload: o.Preload, opts: o, workers: o.Workers}
	// Readable by workers that run as another user (Process.User).
	os.Chmod(dir, 0o755)
	script := filepath.Join(dir, "worker.py")
	if err := os.WriteFile(script, workerPy, 0o644); err != nil {
		a.removeDir()
		return nil, fmt.Errorf("wsgi: write the worker: %w", err)
	}
	po := o.Process
	po.Command, po.Env = command(python, script, a.token, o), append(po.Env, environ(o)...)
	po.Protocol, po.Dir, po.Logger = "uwsgi", o.Chdir, o.Logger
	po.Workers, po.Concurrency = o.Workers, o.Threads
	po.ReserveCPUs = true // one CPU at a time each, the interpreter lock's
	po.StartupPath = probePath(po.Command)
	if po.StackSignal == 0 {
		po.StackSignal = syscall.SIGUSR1
	}
	if o.Preload {
		// One Python process serves them all; it recycles its children.
		po.Concurrency *= o.Workers
		po.Workers, po.MaxRequests, po.MaxRequestsJitter, po.MemoryLimit = 1, 0, 0, 0
	}
	pool, err := process.Prepare(po)
	if err != nil {
		a.removeDir()
		return nil, startError(o, err)
	}
	a.pool = pool
	return a, nil
}

// Start starts the workers and waits until every one has imported the
// application and listens; call it once. An application that cannot be
// imported gives an error with the Python traceback; the app then serves
// nothing, and is to be closed.
func (a *App) Start() error {
	if err := a.pool.Start(); err != nil {
		return startError(a.opts, err)
	}
	a.files = a.imported()
	return nil
}

// workersFile, in the runtime directory, holds the number of children a
// preloading master keeps: AddWorkers writes it, then sends SIGTTIN,
// on which the master reads it (two signals sent together arrive as
// one; the file holds the last word).
const workersFile = "workers"

// command is the worker's command line, for o with Workers and Threads
// set; tok makes the start-up probe's path and marks the 500 replies that
// carry a traceback (see AppError).
func command(python, script, tok string, o Options) []string {
	args := []string{python, script}
	// NAME=VALUE: a value starting with "-" stays a value.
	if o.Module != "" {
		args = append(args, "--module="+o.Module)
	} else {
		args = append(args, "--paste="+o.Paste)
	}
	args = append(args, "--threads", strconv.Itoa(o.Threads), "--workers", strconv.Itoa(o.Workers),
		"--worker", "{worker}", "--probe", "/.gopaste-wsgi-ready-"+tok, "--error-token", tok)
	for _, p := range o.PythonPath {
		args = append(args, "--pythonpath="+p)
	}
	if o.LoggingConfig != "" {
		args = append(args, "--logging-config="+o.LoggingConfig)
	}
	sig := o.Process.StackSignal
	if sig == 0 {
		sig = syscall.SIGUSR1
	}
	if sig > 0 {
		args = append(args, "--stack-signal", strconv.Itoa(int(sig)))
	}
	if o.Preload {
		args = append(args, "--preload", "--workers-file", filepath.Join(filepath.Dir(script), workersFile))
		if o.Process.MaxRequests > 0 {
			args = append(args, "--max-requests", strconv.Itoa(o.Process.MaxRequests))
		}
		if o.Process.MaxRequestsJitter > 0 {
			args = append(args, "--max-requests-jitter", strconv.Itoa(o.Process.MaxRequestsJitter))
		}
		if o.Process.MemoryLimit > 0 {
			args = append(args, "--memory-limit", strconv.FormatInt(o.Process.MemoryLimit, 10))
		}
	}
	return append(args, "--imports-file", filepath.Join(filepath.Dir(script), "imports.txt"))
}

// probePath is the path of the start-up request, which the worker
// answers itself (with 204) instead of calling the application: the
// --probe argument of cmd.
func probePath(cmd []string) string {
	for i, a := range cmd {
		if a == "--probe" && i+1 < len(cmd) {
			return cmd[i+1]
		}
	}
	return "/"
}

// token is a random hex string: nobody's URL is the probe's.
func token() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// environ is what the workers' environment adds to this process's.
func environ(o Options) []string {
	// print() reaches the log when called, not when a buffer fills.
	env := []string{"PYTHONUNBUFFERED=1"}
	if o.Virtualenv != "" {
		env = append(env, "VIRTUAL_ENV="+o.Virtualenv,
			"PATH="+filepath.Join(o.Virtualenv, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	return append(env, o.Env...)
}

// FindPython returns the interpreter New runs: python when set (a name
// without a slash is looked up in PATH), else the virtualenv's
// bin/python3 or bin/python, else DefaultPython when present, else
// python3 in PATH.
func FindPython(python, virtualenv string) (string, error) {
	var candidates []string
	switch {
	case python != "":
		if !strings.Contains(python, "/") {
			p, err := exec.LookPath(python)
			if err != nil {
				return "", fmt.Errorf("wsgi: python %s: %w", python, err)
			}
			return p, nil
		}
		candidates = []string{python}
	case virtualenv != "":
		candidates = []string{filepath.Join(virtualenv, "bin", "python3"), filepath.Join(virtualenv, "bin", "python")}
	default:
		candidates = []string{DefaultPython}
		if p, err := exec.LookPath("python3"); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return c, nil
		}
	}
	if python == "" && virtualenv == "" {
		return "", errors.New("wsgi: no Python interpreter: neither " + DefaultPython + " nor python3 in PATH (set python)")
	}
	return "", fmt.Errorf("wsgi: no Python interpreter at %s", strings.Join(candidates, " or "))
}

// startError turns the pool's start failure into one message: the first
// worker's error (they all fail alike when the import does), with the
// Python traceback the pool quotes from its stderr.
func startError(o Options, err error) error {
	what := "module " + o.Module
	if o.Paste != "" {
		what = "paste " + o.Paste
	}
	var many interface{ Unwrap() []error }
	if errors.As(err, &many) {
		if errs := many.Unwrap(); len(errs) > 1 {
			err = fmt.Errorf("%w\n(and %d more workers)", errs[0], len(errs)-1)
		}
	}
	return fmt.Errorf("wsgi: %s did not start: %w", what, err)
}

// imported reads the .py files the first worker imported from the
// application's directories (not from the standard library or
// site-packages), as it listed them at start.
func (a *App) imported() []string {
	b, err := os.ReadFile(filepath.Join(a.dir, "imports.txt"))
	if err != nil {
		return nil
	}
	var files []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			files = append(files, l)
		}
	}
	return files
}

// Files returns the application's own .py files, as the first worker
// imported them at start: what "gopaste serve --reload" watches.
func (a *App) Files() []string { return append([]string(nil), a.files...) }

// Workers returns the workers that run, for the status page.
func (a *App) Workers() []process.Worker { return a.pool.Workers() }

// AddWorkers changes the number of Python workers by delta and returns
// the new number, as process.Pool.AddWorkers does ("gopaste serve" calls
// it on SIGTTIN and SIGTTOU). With Preload the preloading master forks
// a child more, or stops its newest once that child has finished its
// requests, and the master takes Threads requests more or fewer at
// once. The last worker stays.
func (a *App) AddWorkers(delta int) (int, error) {
	if !a.preload {
		return a.pool.AddWorkers(delta)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.workers + delta
	if n < 1 {
		return a.workers, fmt.Errorf("wsgi: %d workers and %+d would leave none; the last one stays", a.workers, delta)
	}
	tmp := filepath.Join(a.dir, workersFile+".new")
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		return a.workers, fmt.Errorf("wsgi: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(a.dir, workersFile)); err != nil {
		return a.workers, fmt.Errorf("wsgi: %w", err)
	}
	// The room shrinks before the master stops a child, so that the
	// children left are never given more at once than they serve; it
	// grows after the master forked.
	if delta < 0 {
		a.pool.SetConcurrency(n * a.opts.Threads)
	}
	a.pool.Signal(syscall.SIGTTIN)
	if delta > 0 {
		a.pool.SetConcurrency(n * a.opts.Threads)
	}
	a.workers = n
	log := a.opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log.Info("workers changed", "workers", n, "by", delta, "preload", true)
	return n, nil
}

// ServeHTTP sends the request to the least busy worker. An exception the
// application raised before its reply is reported with
// errorpage.Report as an *AppError.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ew := &errorWriter{ResponseWriter: w, token: a.token}
	a.pool.ServeHTTP(ew, r)
	ew.report(r)
}

// Close waits for the requests in flight, stops the workers and removes
// the runtime directory.
func (a *App) Close() error {
	err := a.pool.Close()
	a.removeDir()
	return err
}

func (a *App) removeDir() { os.RemoveAll(a.dir) }

var _ http.Handler = (*App)(nil)
