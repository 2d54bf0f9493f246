package wsgi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/process"
)

// waitUntil polls cond every 20ms for up to 15s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

func pids(a *App) []int {
	var out []int
	for _, w := range a.Workers() {
		if w.State == "idle" || w.State == "busy" {
			out = append(out, w.Pid)
		}
	}
	slices.Sort(out)
	return out
}

// TestWorkerDies: a worker that segfaults or exits under an idempotent
// request has it retried on another worker and is replaced; a POST gets
// 502.
func TestWorkerDies(t *testing.T) {
	marks := t.TempDir()
	a, srv, logs := start(t, Options{Module: "faults", Workers: 2, Env: []string{"FAULTS_MARKS=" + marks}})
	before := pids(a)
	for _, path := range []string{"/segv", "/exit"} {
		status, _, body := get(t, srv.URL+path)
		if status != 200 || !strings.HasPrefix(body, "pid ") {
			t.Errorf("GET %s = %d %q, want 200 from the worker it was retried on", path, status, body)
		}
	}
	waitUntil(t, "both workers are replaced", func() bool {
		now := pids(a)
		return len(now) == 2 && !slices.Contains(now, before[0]) && !slices.Contains(now, before[1])
	})
	l := logs.String()
	for _, want := range []string{"killed by segmentation fault", "exit status 3", "Fatal Python error: Segmentation fault"} {
		if !strings.Contains(strings.ToLower(l), strings.ToLower(want)) {
			t.Errorf("the log lacks %q", want)
		}
	}
	status, _, body := do(t, "POST", srv.URL+"/segv-always", "a=1")
	if status != http.StatusBadGateway {
		t.Errorf("POST /segv-always = %d %q, want 502 (not retried: not idempotent)", status, body)
	}
	waitUntil(t, "two workers serve again", func() bool { return len(pids(a)) == 2 })
	if status, _, _ := get(t, srv.URL+"/"); status != 200 {
		t.Errorf("after the crashes GET / = %d", status)
	}
}

// TestTimeouts: past timeout the client gets 504; past hard_timeout the
// worker writes its Python stack to the log and is killed and replaced.
func TestTimeouts(t *testing.T) {
	a, srv, logs := start(t, Options{Module: "faults", Process: processTimeouts(300*time.Millisecond, 1500*time.Millisecond)})
	begin := time.Now()
	status, _, _ := get(t, srv.URL+"/slow?3")
	if d := time.Since(begin); status != http.StatusGatewayTimeout || d > 2500*time.Millisecond {
		t.Errorf("GET /slow?3 = %d after %v, want 504 after about 300ms", status, d)
	}
	// The worker finishes that request, then takes the next.
	waitUntil(t, "the worker is idle again", func() bool {
		w := a.Workers()
		return len(w) == 1 && w[0].State == "idle"
	})
	first := pids(a)
	get(t, srv.URL+"/slow?30")
	waitUntil(t, "the stuck worker is replaced", func() bool {
		now := pids(a)
		return len(now) == 1 && now[0] != first[0]
	})
	l := logs.String()
	// faulthandler's dump: the thread, the line of the sleep, the function.
	for _, want := range []string{"Thread 0x", "faults.py", " in application"} {
		if !strings.Contains(l, want) {
			t.Errorf("no Python stack in the log (%q missing):\n%s", want, l)
		}
	}
}

// TestThreadsOne: an application that is not thread-safe stays correct
// with threads = 1, however many requests arrive at once.
func TestThreadsOne(t *testing.T) {
	_, srv, _ := start(t, Options{Module: "faults", Workers: 1, Threads: 1})
	const n = 30
	var mu sync.Mutex
	var seen []int
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, body := get(t, srv.URL+"/count")
			v, err := strconv.Atoi(body)
			if err != nil {
				t.Errorf("GET /count = %q", body)
				return
			}
			mu.Lock()
			seen = append(seen, v)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(seen)
	for i, v := range seen {
		if v != i+1 {
			t.Fatalf("counts %v: want 1..%d, each once (a lost update means two requests ran at once)", seen, n)
		}
	}
}

// TestAddWorkers: SIGTTIN and SIGTTOU (AddWorkers) start a Python
// worker that serves once it has imported the application, and stop
// one, as gunicorn's do.
func TestAddWorkers(t *testing.T) {
	a, srv, _ := start(t, Options{Module: "conform", Workers: 1})
	first := pids(a)
	if n, err := a.AddWorkers(1); n != 2 || err != nil {
		t.Fatalf("AddWorkers(1) = %d, %v; want 2", n, err)
	}
	waitUntil(t, "a second worker is ready", func() bool { return len(pids(a)) == 2 })
	served := map[int]bool{}
	waitUntil(t, "both workers serve", func() bool {
		_, _, body := get(t, srv.URL+"/environ")
		var env struct {
			Pid int `json:"pid"`
		}
		json.Unmarshal([]byte(body), &env)
		served[env.Pid] = true
		return len(served) == 2
	})
	if n, err := a.AddWorkers(-1); n != 1 || err != nil {
		t.Fatalf("AddWorkers(-1) = %d, %v; want 1", n, err)
	}
	waitUntil(t, "the second worker stops", func() bool { return slices.Equal(pids(a), first) })
	if status, _, _ := get(t, srv.URL+"/hello"); status != 200 {
		t.Errorf("GET /hello with one worker left = %d", status)
	}
}

// TestPreloadAddWorkers: under preload, SIGTTIN and SIGTTOU (AddWorkers)
// have the master fork a child more or stop its newest, and the master
// takes as many more or fewer requests at once; the last child stays.
func TestPreloadAddWorkers(t *testing.T) {
	a, srv, _ := start(t, Options{Module: "faults", Workers: 1, Threads: 1, Preload: true})
	children := func() []string {
		ps := pids(a)
		if len(ps) != 1 {
			return nil
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", ps[0], ps[0]))
		return strings.Fields(string(b))
	}
	if n, err := a.AddWorkers(1); n != 2 || err != nil {
		t.Fatalf("AddWorkers(1) = %d, %v; want 2", n, err)
	}
	waitUntil(t, "the master forks a second child", func() bool { return len(children()) == 2 })
	// Two slow requests at once: one child each, side by side.
	begin := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if status, _, body := get(t, srv.URL+"/slow?0.6"); status != 200 {
				t.Errorf("GET /slow = %d %q", status, body)
			}
		})
	}
	wg.Wait()
	if d := time.Since(begin); d > 1100*time.Millisecond {
		t.Errorf("two 0.6 s requests on two children took %v: served one after the other", d)
	}
	// A master started again after a crash keeps the number asked for.
	old := pids(a)[0]
	syscall.Kill(old, syscall.SIGKILL)
	waitUntil(t, "a new master forks two children", func() bool {
		ps := pids(a)
		return len(ps) == 1 && ps[0] != old && len(children()) == 2
	})
	master := pids(a)[0]
	if n, err := a.AddWorkers(-1); n != 1 || err != nil {
		t.Fatalf("AddWorkers(-1) = %d, %v; want 1", n, err)
	}
	waitUntil(t, "the master stops a child", func() bool { return len(children()) == 1 })
	if n, err := a.AddWorkers(-1); n != 1 || err == nil || !strings.Contains(err.Error(), "the last one stays") {
		t.Errorf("AddWorkers(-1) of the last = %d, %v; want 1 and an error", n, err)
	}
	if status, _, _ := get(t, srv.URL+"/count"); status != 200 {
		t.Errorf("GET /count with one child left = %d", status)
	}
	if now := pids(a); len(now) != 1 || now[0] != master {
		t.Errorf("supervised processes %v, want the same master %d", now, master)
	}
}

// TestPreload: one Python process imports the application and forks the
// workers, which share its socket; it replaces a child that dies.
func TestPreload(t *testing.T) {
	a, srv, _ := start(t, Options{Module: "conform", Workers: 2, Threads: 2, Preload: true})
	master := pids(a)
	if len(master) != 1 {
		t.Fatalf("supervised processes %v, want the one preload master", master)
	}
	children := func() map[int]bool {
		seen := map[int]bool{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				_, _, body := get(t, srv.URL+"/environ")
				var env struct {
					Pid int  `json:"pid"`
					MP  bool `json:"wsgi.multiprocess"`
				}
				if err := json.Unmarshal([]byte(body), &env); err != nil || !env.MP {
					t.Errorf("GET /environ = %q (%v), want wsgi.multiprocess true", body, err)
				}
				mu.Lock()
				seen[env.Pid] = true
				mu.Unlock()
			})
		}
		wg.Wait()
		return seen
	}
	seen := children()
	if len(seen) == 0 || len(seen) > 2 || seen[master[0]] {
		t.Fatalf("requests served by %v; want forked children of %d, at most 2", seen, master[0])
	}
	for pid := range seen {
		syscall.Kill(pid, syscall.SIGKILL)
		break
	}
	waitUntil(t, "the preload master serves again", func() bool {
		status, _, _ := get(t, srv.URL+"/hello")
		return status == 200
	})
	if now := pids(a); !slices.Equal(now, master) {
		t.Errorf("supervised processes %v after a child died, want the same master %v", now, master)
	}
	t.Log(fmt.Sprint("children after: ", children()))
}

func processTimeouts(soft, hard time.Duration) (o processOptions) {
	o.Timeout, o.HardTimeout = soft, hard
	return o
}

type processOptions = process.Options

// TestRecycleUnderLoad: workers recycled every few requests
// (max_requests) stop gracefully: no request is lost.
func TestRecycleUnderLoad(t *testing.T) {
	_, srv, _ := start(t, Options{Module: "faults", Workers: 2, Threads: 2,
		Process: processOptions{MaxRequests: 7}})
	if seen := recycleLoad(t, srv.URL+"/", false); len(seen) < 4 {
		t.Errorf("60 requests served by %d workers with max_requests = 7: not recycled?", len(seen))
	}
}

// TestPreloadRecycleKept: preloaded children of two threads recycled
// every few requests (max_requests, which only the master sees) while
// gopaste keeps connections to them: no request is lost, with or
// without a body.
func TestPreloadRecycleKept(t *testing.T) {
	_, srv, _ := start(t, Options{Module: "faults", Workers: 2, Threads: 2, Preload: true,
		Process: processOptions{MaxRequests: 5}})
	if seen := recycleLoad(t, srv.URL+"/", true); len(seen) < 4 {
		t.Errorf("60 requests served by %d children with max_requests = 5: not recycled?", len(seen))
	}
}

// recycleLoad sends 60 requests to faults' pid page from 4 clients at
// once (every other one a POST with a body when posts) and returns the
// pages seen: one per worker process.
func recycleLoad(t *testing.T, url string, posts bool) map[string]bool {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 15 {
				method, body := "GET", ""
				if posts && i%2 == 1 {
					method, body = "POST", "a body"
				}
				status, _, got := do(t, method, url, body)
				if status != 200 || !strings.HasPrefix(got, "pid ") {
					t.Errorf("client %d request %d (%s): %d %q", g, i, method, status, got)
					return
				}
				mu.Lock()
				seen[got] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return seen
}

// TestPreloadRecycle: with preload the master recycles its children
// itself (here memory_limit, passed at once) and serves on.
func TestPreloadRecycle(t *testing.T) {
	_, srv, logs := start(t, Options{Module: "faults", Workers: 2, Preload: true,
		Process: processOptions{MemoryLimit: 1}})
	seen := map[string]bool{}
	for i := range 12 {
		status, _, body := get(t, srv.URL+"/")
		if status != 200 || !strings.HasPrefix(body, "pid ") {
			t.Fatalf("request %d: %d %q", i, status, body)
		}
		seen[body] = true
	}
	if len(seen) < 4 {
		t.Errorf("12 requests served by %d children with memory_limit = 1: not recycled?", len(seen))
	}
	waitUntil(t, "the log says why", func() bool { return strings.Contains(logs.String(), "memory_limit") })
}

// TestPreloadHardTimeout: the stack signal gopaste sends the preload
// master reaches its children, so the stuck request's Python stack is in
// the log before the kill.
func TestPreloadHardTimeout(t *testing.T) {
	a, srv, logs := start(t, Options{Module: "faults", Workers: 2, Preload: true,
		Process: processTimeouts(0, 1500*time.Millisecond)})
	first := pids(a)
	get(t, srv.URL+"/slow?30")
	waitUntil(t, "the master is replaced", func() bool {
		now := pids(a)
		return len(now) == 1 && now[0] != first[0]
	})
	if l := logs.String(); !strings.Contains(l, "faults.py") || !strings.Contains(l, " in application") {
		t.Errorf("no stack of the stuck child in the log:\n%s", l)
	}
}
