package peer

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingTB keeps what CheckBadInput reports instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Logf(string, ...any) {}

// serve accepts on a loopback listener and runs handle for each
// connection; the returned wait closes the listener and waits for the
// handlers to return.
func serve(t *testing.T, handle func(net.Conn)) (addr string, wait func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { handle(c) })
		}
	}()
	return l.Addr().String(), func() { l.Close(); wg.Wait() }
}

var oneCase = []BadInput{{Name: "junk", Send: func(c net.Conn) { io.WriteString(c, "junk") }}}

// check runs CheckBadInput against a server running handle, and returns
// what it reported.
func check(t *testing.T, handle func(net.Conn), cleanup func()) string {
	addr, wait := serve(t, handle)
	r := &recordingTB{TB: t}
	CheckBadInput(r, addr, 20, oneCase)
	cleanup()
	wait()
	return strings.Join(r.errs, "; ")
}

// TestCheckBadInputCatchesLeaks: a server that keeps a goroutine, or a
// descriptor, for each bad request fails the check; one that cleans up
// passes it.
func TestCheckBadInputCatchesLeaks(t *testing.T) {
	defer func(d time.Duration) { settleTimeout = d }(settleTimeout)
	settleTimeout = 300 * time.Millisecond
	drain := func(c net.Conn) { io.Copy(io.Discard, c) }

	if got := check(t, func(c net.Conn) { drain(c); c.Close() }, func() {}); got != "" {
		t.Errorf("clean server: reported %q", got)
	}

	release := make(chan struct{})
	got := check(t, func(c net.Conn) {
		drain(c)
		c.Close()
		<-release // a goroutine left behind
	}, func() { close(release) })
	if !strings.Contains(got, "goroutines") {
		t.Errorf("a goroutine a request: reported %q, want the goroutines named", got)
	}

	var mu sync.Mutex
	var held []io.Closer
	got = check(t, func(c net.Conn) {
		drain(c)
		f, err := c.(*net.TCPConn).File() // a duplicate left open
		c.(*net.TCPConn).CloseWrite()     // the client sees the end all the same
		c.Close()
		if err == nil {
			mu.Lock()
			held = append(held, f)
			mu.Unlock()
		}
	}, func() {})
	mu.Lock()
	for _, f := range held {
		f.Close()
	}
	mu.Unlock()
	if !strings.Contains(got, "fds") {
		t.Errorf("a descriptor a request: reported %q, want the fds named", got)
	}
}
