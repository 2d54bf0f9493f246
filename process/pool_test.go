package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/fastcgi"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/proc"
	"github.com/gopaste/gopaste/scgi"
	"github.com/gopaste/gopaste/uwsgi"
)

// workerEnv makes the test binary a worker speaking the protocol it
// names (see TestMain), as net/http/cgi's tests re-run themselves.
const workerEnv = "GOPASTE_PROCESS_TEST_WORKER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(workerEnv); mode != "" {
		os.Exit(runWorker(mode, os.Args[1:]))
	}
	os.Exit(peer.Main(m))
}

// runWorker serves the test handlers over protocol mode on fd 3, or on
// the address in args[0] ("unix:/path" or "host:port"); mode "crash"
// fails the way a Python app with a bad import does.
func runWorker(mode string, args []string) int {
	if mode == "crash" {
		fmt.Fprintln(os.Stderr, "Traceback (most recent call last):")
		fmt.Fprintln(os.Stderr, "ImportError: No module named 'myapp'")
		return 1
	}
	var l net.Listener
	var err error
	if len(args) > 0 {
		if path, ok := strings.CutPrefix(args[0], "unix:"); ok {
			l, err = net.Listen("unix", path)
		} else {
			l, err = net.Listen("tcp", args[0])
		}
	} else {
		var ls []net.Listener
		if ls, err = proc.Listeners(); err == nil && len(ls) != 1 {
			err = fmt.Errorf("%d listeners", len(ls))
		}
		if err == nil {
			l = ls[0]
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	type server interface {
		Serve(net.Listener) error
		Shutdown(context.Context) error
	}
	var srv server
	switch mode {
	case "http":
		srv = &http.Server{Handler: workerMux()}
	case "uwsgi":
		srv = &uwsgi.Server{Handler: workerMux()}
	case "scgi":
		srv = &scgi.Server{Handler: workerMux()}
	case "fastcgi":
		srv = &fastcgi.Server{Handler: workerMux()}
	default:
		return 2
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	go srv.Serve(countAccepts{l})
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	return 0
}

var ballast [][]byte

// accepted counts the connections a test worker accepted (GET /accepts).
var accepted atomic.Int64

type countAccepts struct{ net.Listener }

func (l countAccepts) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		accepted.Add(1)
	}
	return c, err
}

func workerMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if ms, _ := strconv.Atoi(r.URL.Query().Get("ms")); ms > 0 {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		fmt.Fprintf(w, "pid=%d", os.Getpid())
	})
	mux.HandleFunc("/accepts", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d", accepted.Load())
	})
	mux.HandleFunc("/die", func(http.ResponseWriter, *http.Request) { os.Exit(3) })
	mux.HandleFunc("/hang", func(http.ResponseWriter, *http.Request) { hangForever() })
	mux.HandleFunc("/alloc", func(w http.ResponseWriter, r *http.Request) {
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		b := make([]byte, mb<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		ballast = append(ballast, b)
		fmt.Fprintf(w, "pid=%d", os.Getpid())
	})
	return mux
}

// hangForever is the stuck handler whose name the hard timeout's stack
// dump must show.
//
//go:noinline
func hangForever() { select {} }

// start runs a pool of test workers speaking protocol, closed at the
// test's end; its log goes to the returned buffer.
func start(t *testing.T, protocol string, o Options) (*Pool, *logbuf.Buffer) {
	t.Helper()
	return startB(t, protocol, o)
}

// startB is start for tests and benchmarks.
func startB(t testing.TB, protocol string, o Options) (*Pool, *logbuf.Buffer) {
	t.Helper()
	logs := &logbuf.Buffer{}
	if o.Command == nil {
		o.Command = []string{os.Args[0]}
	}
	o.Env = append(o.Env, workerEnv+"="+protocol)
	o.Protocol = protocol
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.GracefulTimeout == 0 {
		o.GracefulTimeout = 5 * time.Second
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("log:\n%.20000s", logs.String())
		}
	})
	return p, logs
}

// get sends a GET through h and returns the status and body.
func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestProtocols(t *testing.T) {
	for _, proto := range []string{"http", "scgi", "uwsgi", "fastcgi"} {
		t.Run(proto, func(t *testing.T) {
			var mu sync.Mutex
			var statuses []int
			p, _ := start(t, proto, Options{Workers: 1, Observe: func(status int, d time.Duration) {
				mu.Lock()
				statuses = append(statuses, status)
				mu.Unlock()
			}})
			code, body := get(p, "/?x=1")
			if code != 200 || !strings.HasPrefix(body, "pid=") {
				t.Errorf("GET = %d %q, want 200 pid=...", code, body)
			}
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("a=1"))
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Errorf("POST = %d %q", rec.Code, rec.Body)
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(statuses) != "[200 200]" {
				t.Errorf("observed %v, want [200 200]", statuses)
			}
		})
	}
}

// Idle workers take turns; a busy one is passed over for an idle one.
func TestRoundRobinLeastBusy(t *testing.T) {
	p, _ := start(t, "http", Options{Workers: 2})
	seen := map[string]int{}
	for range 4 {
		_, body := get(p, "/")
		seen[body]++
	}
	if len(seen) != 2 || seen[maps(seen)[0]] != 2 {
		t.Errorf("4 requests to 2 idle workers went %v, want 2 each", seen)
	}
	slow := make(chan string)
	go func() {
		_, body := get(p, "/?ms=1500")
		slow <- body
	}()
	waitFor(t, func() bool { return busy(p) == 1 })
	ws := p.Workers()
	var cur *Request
	for _, w := range ws {
		if w.State == "busy" {
			cur = w.Request
		}
	}
	if cur == nil || cur.Method != "GET" || cur.Path != "/" || time.Since(cur.Since) > 5*time.Second {
		t.Errorf("busy worker's request = %+v", cur)
	}
	for range 3 {
		begin := time.Now()
		_, body := get(p, "/")
		if time.Since(begin) > time.Second {
			t.Errorf("a request waited %v behind the busy worker", time.Since(begin))
		}
		seen[body]++
	}
	slowBody := <-slow
	if seen[slowBody] != 2 {
		t.Errorf("the busy worker (%s) got requests: %v", slowBody, seen)
	}
}

func maps(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func busy(p *Pool) int {
	n := 0
	for _, w := range p.Workers() {
		if w.State == "busy" {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}

// load sends GETs for path from n goroutines for d and counts them.
func load(h http.Handler, n int, d time.Duration, path string) (ok, failed int64, pids map[string]bool, firstErr string) {
	var okN, failN atomic.Int64
	var mu sync.Mutex
	pids = map[string]bool{}
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range n {
		wg.Go(func() {
			for time.Now().Before(end) {
				code, body := get(h, path)
				if code != 200 {
					failN.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = fmt.Sprintf("%d %s", code, body)
					}
					mu.Unlock()
					continue
				}
				okN.Add(1)
				mu.Lock()
				pids[body] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return okN.Load(), failN.Load(), pids, firstErr
}

// kill -9 one worker every 200ms under load: no idempotent GET fails.
func TestKillUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name, proto string
		pipeline    int
	}{{"uwsgi", "uwsgi", 0}, {"http", "http", 0}, {"uwsgi-pipeline", "uwsgi", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			p, logs := start(t, tc.proto, Options{Workers: 3, MaxRestartDelay: 300 * time.Millisecond, Pipeline: tc.pipeline})
			stop := make(chan struct{})
			kills := 0
			var wg sync.WaitGroup
			wg.Go(func() {
				tick := time.NewTicker(200 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					for _, w := range p.Workers() {
						if w.State == "busy" || w.State == "idle" {
							syscall.Kill(w.Pid, syscall.SIGKILL)
							kills++
							break
						}
					}
				}
			})
			ok, failed, _, firstErr := load(p, 8, 5*time.Second, "/?ms=2")
			close(stop)
			wg.Wait()
			if failed > 0 || ok < 100 || kills < 10 {
				t.Errorf("%d GETs ok, %d failed (first: %s), %d workers killed; want none failed", ok, failed, firstErr, kills)
			}
			if !strings.Contains(logs.String(), "sending it to another") {
				t.Error("no request was retried on another worker")
			}
			t.Logf("%d GETs ok, %d workers killed", ok, kills)
		})
	}
}

// uwsgi workers keep their connections (the keep-alive extension): many
// requests, one connection per request at once.
func TestUWSGIKeepAlive(t *testing.T) {
	for _, listen := range []string{"unix", "tcp"} {
		t.Run(listen, func(t *testing.T) {
			p, _ := start(t, "uwsgi", Options{Workers: 1, Listen: listen})
			for i := range 50 {
				if code, body := get(p, "/"); code != 200 || !strings.HasPrefix(body, "pid=") {
					t.Fatalf("request %d: %d %q", i, code, body)
				}
			}
			if _, n := get(p, "/accepts"); n != "1" {
				t.Errorf("the worker accepted %s connections for 51 requests, want 1", n)
			}
		})
	}
}

// max_requests recycles workers under load without a failed request,
// with requests written behind others too.
func TestMaxRequestsUnderLoad(t *testing.T) {
	for _, pipeline := range []int{0, 2} {
		t.Run(fmt.Sprintf("pipeline=%d", pipeline), func(t *testing.T) {
			testMaxRequestsUnderLoad(t, pipeline)
		})
	}
}

// With Pipeline, a worker whose Concurrency is busy takes GETs behind
// the request running, up to Pipeline more per connection; a POST waits
// in the queue.
func TestPipelineAssigns(t *testing.T) {
	p, _ := start(t, "uwsgi", Options{Workers: 1, Concurrency: 1, Pipeline: 2})
	get(p, "/") // the connection is a kept one from now on
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if code, body := get(p, "/?ms=500"); code != 200 || !strings.HasPrefix(body, "pid=") {
				t.Errorf("GET: %d %q", code, body)
			}
		})
	}
	waitFor(t, func() bool { return p.Workers()[0].Requests == 4 }) // the 3 GETs given to the worker
	post := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x")))
		post <- rec.Code
	}()
	waitFor(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.waiters) == 1
	})
	if n := p.Workers()[0].Requests; n != 4 {
		t.Errorf("the worker was given %d requests (1 before, 3 GETs at once, a POST waiting), want 4", n)
	}
	wg.Wait()
	if code := <-post; code != 200 {
		t.Errorf("POST: %d", code)
	}
	if _, n := get(p, "/accepts"); n != "1" {
		t.Errorf("the worker accepted %s connections, want 1", n)
	}
}

func testMaxRequestsUnderLoad(t *testing.T, pipeline int) {
	p, logs := start(t, "uwsgi", Options{Workers: 2, MaxRequests: 25, MaxRequestsJitter: 10, Pipeline: pipeline})
	ok, failed, pids, firstErr := load(p, 6, 3*time.Second, "/?ms=1")
	if failed > 0 {
		t.Errorf("%d failed (first: %s), want none", failed, firstErr)
	}
	if len(pids) < 4 {
		t.Errorf("%d requests served by %d pids, want recycled workers", ok, len(pids))
	}
	if !strings.Contains(logs.String(), "reason=max_requests") {
		t.Error("no recycle logged")
	}
	for _, w := range p.Workers() {
		if w.Requests > 35 {
			t.Errorf("worker %d served %d requests, max 25 + 10", w.Pid, w.Requests)
		}
	}
}

// A worker past memory_limit is replaced after its request.
func TestMemoryLimit(t *testing.T) {
	p, logs := start(t, "http", Options{Workers: 1, MemoryLimit: 150 << 20})
	_, before := get(p, "/")
	code, body := get(p, "/alloc?mb=200")
	if code != 200 || body != before {
		t.Fatalf("alloc = %d %q, want 200 from %s (the request in flight completes)", code, body, before)
	}
	_, after := get(p, "/")
	if after == before {
		t.Errorf("the worker past memory_limit still serves (%s)", after)
	}
	if !strings.Contains(logs.String(), "reason=memory_limit") {
		t.Error("no recycle logged")
	}
}

// The soft timeout answers 504 and logs; the worker stays busy until it
// has finished, then serves again.
func TestSoftTimeout(t *testing.T) {
	p, logs := start(t, "uwsgi", Options{Workers: 1, Timeout: 200 * time.Millisecond})
	begin := time.Now()
	code, _ := get(p, "/?ms=1000")
	if d := time.Since(begin); code != 504 || d > 900*time.Millisecond {
		t.Errorf("slow request = %d after %v, want 504 after about 200ms", code, d)
	}
	if busy(p) != 1 {
		t.Error("the worker is not counted busy while it finishes the timed-out request")
	}
	code, _ = get(p, "/")
	if d := time.Since(begin); code != 200 || d < 900*time.Millisecond {
		t.Errorf("next request = %d after %v, want 200 once the worker finished", code, d)
	}
	if l := logs.String(); !strings.Contains(l, "no reply within timeout") || !strings.Contains(l, "path=/") {
		t.Error("the timeout was not logged")
	}
}

// The hard timeout dumps the stuck worker's stack (SIGQUIT to a Go
// worker), kills it, answers 504, and other requests are unaffected.
func TestHardTimeout(t *testing.T) {
	p, logs := start(t, "http", Options{Workers: 2, HardTimeout: 500 * time.Millisecond})
	var stuck atomic.Int64
	done := make(chan int)
	go func() {
		code, _ := get(p, "/hang")
		done <- code
	}()
	waitFor(t, func() bool {
		for _, w := range p.Workers() {
			if w.Request != nil && w.Request.Path == "/hang" {
				stuck.Store(int64(w.Pid))
				return true
			}
		}
		return false
	})
	ok, failed, _, firstErr := load(p, 2, 1500*time.Millisecond, "/?ms=1")
	if code := <-done; code != 504 {
		t.Errorf("stuck request = %d, want 504", code)
	}
	if failed > 0 || ok == 0 {
		t.Errorf("other requests: %d ok, %d failed (first: %s)", ok, failed, firstErr)
	}
	pid := strconv.Itoa(int(stuck.Load()))
	l := logs.String()
	if !strings.Contains(l, "hard_timeout") || !strings.Contains(l, "path=/hang") || !strings.Contains(l, "stack_signal=quit") {
		t.Error("the hard timeout was not logged with the request")
	}
	if !strings.Contains(l, "pid="+pid+" stream=stderr line=\"main.hangForever") &&
		!strings.Contains(l, "pid="+pid+" stream=stderr line=github.com/gopaste/gopaste/process.hangForever") {
		t.Error("the stuck worker's stack (hangForever) is not in the log")
	}
	waitFor(t, func() bool {
		ws := p.Workers()
		ready := 0
		for _, w := range ws {
			if strconv.Itoa(w.Pid) == pid {
				return false
			}
			if w.State == "idle" {
				ready++
			}
		}
		return ready == 2
	})
}

// A POST whose worker dies under it is not sent again: 502, and the log
// says which worker died and how.
func TestDeadWorkerPost(t *testing.T) {
	p, logs := start(t, "uwsgi", Options{Workers: 2})
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/die", strings.NewReader("a=1")))
	if rec.Code != 502 {
		t.Errorf("POST /die = %d, want 502", rec.Code)
	}
	if l := logs.String(); !strings.Contains(l, "died (exit status 3)") || strings.Contains(l, "sending it to another") {
		t.Error("the log does not say the worker died with exit status 3, or the POST was sent again")
	}
	waitFor(t, func() bool { return len(p.Workers()) == 2 && busy(p) == 0 })
	if code, _ := get(p, "/"); code != 200 {
		t.Errorf("GET after the death = %d", code)
	}
}

func TestStartFailure(t *testing.T) {
	t.Run("bad command", func(t *testing.T) {
		_, err := New(Options{Command: []string{"/nonexistent/worker"}, Workers: 2, Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), "/nonexistent/worker") || !strings.Contains(err.Error(), "not found") {
			t.Errorf("New = %v, want the shell's not found in the error", err)
		}
	})
	t.Run("crash on import", func(t *testing.T) {
		_, err := New(Options{Command: []string{os.Args[0]}, Env: []string{workerEnv + "=crash"}, Workers: 1,
			Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), "ImportError: No module named 'myapp'") ||
			!strings.Contains(err.Error(), "exit status 1") {
			t.Errorf("New = %v, want the exit status and its stderr", err)
		}
	})
	t.Run("startup timeout", func(t *testing.T) {
		_, err := New(Options{Command: []string{"sleep", "10"}, Workers: 1, StartupTimeout: 300 * time.Millisecond,
			Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), "startup_timeout") {
			t.Errorf("New = %v, want not ready within startup_timeout", err)
		}
	})
}

// Close lets the request in flight finish, then stops the workers.
func TestGracefulClose(t *testing.T) {
	p, _ := start(t, "uwsgi", Options{Workers: 2})
	pids := p.Workers()
	res := make(chan string)
	go func() {
		code, body := get(p, "/?ms=500")
		res <- fmt.Sprint(code, " ", body)
	}()
	waitFor(t, func() bool { return busy(p) == 1 })
	p.Close()
	if got := <-res; !strings.HasPrefix(got, "200 pid=") {
		t.Errorf("in-flight request = %q, want 200", got)
	}
	for _, w := range pids {
		if err := syscall.Kill(w.Pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("worker %d still runs after Close", w.Pid)
		}
	}
	if code, _ := get(p, "/"); code != 503 {
		t.Errorf("request after Close = %d, want 503", code)
	}
}

// The worker binds {socket} or {port} itself.
func TestPlaceholders(t *testing.T) {
	for _, arg := range []string{"unix:{socket}", "127.0.0.1:{port}"} {
		t.Run(arg, func(t *testing.T) {
			p, _ := start(t, "http", Options{Workers: 2, Command: []string{os.Args[0], arg}})
			if code, body := get(p, "/"); code != 200 || !strings.HasPrefix(body, "pid=") {
				t.Errorf("GET = %d %q", code, body)
			}
		})
	}
}

// The queue holds MaxQueue requests; more get 503.
func TestQueueFull(t *testing.T) {
	p, _ := start(t, "http", Options{Workers: 1, MaxQueue: 1})
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for i := range 2 {
		wg.Go(func() {
			code, _ := get(p, "/?ms=400")
			codes <- code
		})
		waitFor(t, func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.inflight == i+1
		})
	}
	if code, _ := get(p, "/"); code != 503 {
		t.Errorf("third request = %d, want 503", code)
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("queued request = %d, want 200", c)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		`python3 -c 'print("a b")' x`: {"python3", "-c", `print("a b")`, "x"},
		"a\n  b\t\"c \\\" d\"":        {"a", "b", `c " d`},
		`a\ b ''`:                     {"a b", ""},
	} {
		got, err := splitCommand(in)
		if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Errorf("splitCommand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`a 'b`, `"c`} {
		if _, err := splitCommand(bad); err == nil {
			t.Errorf("splitCommand(%q) gave no error", bad)
		}
	}
}

func TestGuessStackSignal(t *testing.T) {
	for prog, want := range map[string]syscall.Signal{
		os.Args[0]:            syscall.SIGQUIT, // a Go binary
		"/usr/bin/python3.11": syscall.SIGUSR1,
		"python3":             syscall.SIGUSR1,
		"sh":                  NoSignal,
		"/nonexistent/app":    NoSignal,
	} {
		if got := GuessStackSignal(prog); got != want {
			t.Errorf("GuessStackSignal(%q) = %v, want %v", prog, got, want)
		}
	}
}

// blockingWriter is a client that takes its reply only when let go.
type blockingWriter struct {
	*httptest.ResponseRecorder
	writing chan struct{} // closed at the first Write
	release chan struct{}
	once    sync.Once
}

func (w *blockingWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.writing) })
	<-w.release
	return w.ResponseRecorder.Write(b)
}

// A worker is free for the next request once its reply is read, not once
// the client has taken it: a slow client does not hold the worker (nor
// its kept connection) while a request waits in the queue.
func TestWorkerFreeWhileReplyIsWritten(t *testing.T) {
	p, _ := start(t, "uwsgi", Options{Workers: 1, Concurrency: 1})
	slow := &blockingWriter{ResponseRecorder: httptest.NewRecorder(), writing: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.ServeHTTP(slow, httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	select {
	case <-slow.writing:
	case <-time.After(10 * time.Second):
		t.Fatal("the first reply never reached its client")
	}
	next := make(chan string, 1)
	go func() {
		_, n := get(p, "/accepts")
		next <- n
	}()
	select {
	case n := <-next:
		if n != "1" {
			t.Errorf("the worker accepted %s connections, want 1: the kept connection was not handed on", n)
		}
	case <-time.After(5 * time.Second):
		t.Error("the next request waited for the slow client of the one before")
	}
	close(slow.release)
	<-done
	if !strings.HasPrefix(slow.Body.String(), "pid=") {
		t.Errorf("slow client got %d %q", slow.Code, slow.Body.String())
	}
}

// AddWorkers (SIGTTIN, SIGTTOU under "gopaste serve") starts workers
// that take requests once ready, and takes the highest numbered away
// once its requests are done, without replacing it; the last one stays.
func TestAddWorkers(t *testing.T) {
	p, _ := start(t, "uwsgi", Options{Workers: 1, MinRestartDelay: 50 * time.Millisecond})
	if n, err := p.AddWorkers(2); n != 3 || err != nil {
		t.Fatalf("AddWorkers(2) = %d, %v; want 3", n, err)
	}
	ready := func(want int) []Worker {
		t.Helper()
		var ws []Worker
		waitFor(t, func() bool {
			ws = p.Workers()
			for _, w := range ws {
				if w.State != "idle" && w.State != "busy" {
					return false
				}
			}
			return len(ws) == want
		})
		return ws
	}
	ws := ready(3)
	if ws[2].Worker != 3 {
		t.Errorf("workers %+v, want numbers 1 to 3", ws)
	}
	// A request on each worker: the one taken away finishes its own.
	res := make(chan string, 3)
	for range 3 {
		go func() {
			code, body := get(p, "/?ms=700")
			res <- fmt.Sprint(code, " ", body)
		}()
	}
	waitFor(t, func() bool { return busy(p) == 3 })
	if n, err := p.AddWorkers(-1); n != 2 || err != nil {
		t.Fatalf("AddWorkers(-1) = %d, %v; want 2", n, err)
	}
	gone := ws[2].Pid
	if now := p.Workers(); len(now) != 3 || now[2].State != "recycling" {
		t.Errorf("workers just after AddWorkers(-1): %+v; want worker 3 recycling, finishing its request", now)
	}
	for range 3 {
		if got := <-res; !strings.HasPrefix(got, "200 pid=") {
			t.Errorf("a request in flight as its worker was taken away = %q, want 200", got)
		}
	}
	waitFor(t, func() bool { return syscall.Kill(gone, 0) != nil })
	time.Sleep(300 * time.Millisecond) // past MinRestartDelay: not replaced
	ws = ready(2)
	for _, w := range ws {
		if w.Pid == gone || w.Worker > 2 {
			t.Errorf("workers after AddWorkers(-1): %+v, worker 3 (pid %d) still there", ws, gone)
		}
	}
	if n, err := p.AddWorkers(-1); n != 1 || err != nil {
		t.Fatalf("AddWorkers(-1) = %d, %v; want 1", n, err)
	}
	if n, err := p.AddWorkers(-1); n != 1 || err == nil || !strings.Contains(err.Error(), "the last one stays") {
		t.Errorf("AddWorkers(-1) of the last worker = %d, %v; want 1 and an error", n, err)
	}
	ready(1)
	for range 4 {
		if code, body := get(p, "/"); code != 200 || body != fmt.Sprintf("pid=%d", ws[0].Pid) {
			t.Errorf("GET = %d %q, want worker 1 (pid %d)", code, body, ws[0].Pid)
		}
	}
	p.Close()
	if n, err := p.AddWorkers(1); err == nil {
		t.Errorf("AddWorkers after Close = %d, nil; want an error", n)
	}
}
