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
// back to where they were before (polled up to 15s).
func CheckBadInput(t *testing.T, addr string, n int, cases []BadInput) {
	t.Helper()
	fds0, gs0 := countFDs(t), runtime.NumGoroutine()
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
	deadline := time.Now().Add(15 * time.Second)
	for {
		fds, gs := countFDs(t), runtime.NumGoroutine()
		if fds <= fds0 && gs <= gs0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("after %d bad requests: %d fds (baseline %d), %d goroutines (baseline %d)", n, fds, fds0, gs, gs0)
			buf := make([]byte, 1<<20)
			t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by deadline
	}
}

func countFDs(t *testing.T) int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(es)
}
