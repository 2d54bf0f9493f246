package peer

import (
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BadInput is one malformed request: Send writes it on c (and may close
// or half-close c itself).
type BadInput struct {
	Name string
	Send func(c net.Conn)
}

// CheckBadInput sends n requests cycling through cases to addr, 8 at a
// time. After each, the client half-closes and reads until the server
// closes; a server that neither answers nor closes within 10s fails the
// test. Then the process's open fd count and goroutine count must come
// back to where they were before (polled up to 15s: WaitSettled).
func CheckBadInput(t testing.TB, addr string, n int, cases []BadInput) {
	t.Helper()
	gs0, fds0 := runtime.NumGoroutine(), OpenFDs(t)
	var next, hung atomic.Int64
	var wg sync.WaitGroup
	var firstHang sync.Once
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				bc := cases[i%len(cases)]
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				c.SetDeadline(time.Now().Add(10 * time.Second))
				bc.Send(c)
				if tc, ok := c.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				if _, err := io.Copy(io.Discard, c); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						hung.Add(1)
						firstHang.Do(func() { t.Errorf("case %q: server neither answered nor closed in 10s", bc.Name) })
					}
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
	if h := hung.Load(); h > 0 {
		t.Errorf("%d of %d bad requests hung", h, n)
	}
	if gs, fds := WaitSettled(t, gs0, fds0, settleTimeout); gs > gs0 || fds > fds0 {
		t.Errorf("after %d bad requests: %d fds (baseline %d), %d goroutines (baseline %d)", n, fds, fds0, gs, gs0)
		buf := make([]byte, 1<<20)
		t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
	}
}

// settleTimeout bounds CheckBadInput's wait for the counts to come back.
var settleTimeout = 15 * time.Second

// OpenFDs is how many file descriptors this process has open. Without
// /proc/self/fd (not Linux) the test is skipped, or failed when CI=true
// (Missing).
func OpenFDs(t testing.TB) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		Missing(t, "no /proc/self/fd to count descriptors: %v", err)
	}
	return len(es)
}

// WaitSettled waits up to d for this process's goroutine and open
// descriptor counts to fall to gs and fds, and returns them as they are
// then: a leak check compares them with a baseline, which a call with
// huge limits and a short wait takes.
func WaitSettled(t testing.TB, gs, fds int, d time.Duration) (int, int) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ng, nfd := runtime.NumGoroutine(), OpenFDs(t)
		if ng <= gs && nfd <= fds || time.Now().After(deadline) {
			return ng, nfd
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by d
	}
}
