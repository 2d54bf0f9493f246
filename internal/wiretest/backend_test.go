package wiretest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// dial connects to a Backend's address.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	network := "tcp"
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, addr = "unix", p
	}
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestBackendServes(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			b := Serve(t, network, func(c net.Conn) {
				line := make([]byte, 4)
				io.ReadFull(c, line)
				c.Write(line)
			})
			if network == "unix" != strings.HasPrefix(b.Addr(), "unix:/") {
				t.Errorf("%s address %q", network, b.Addr())
			}
			for i := range 3 {
				c := dial(t, b.Addr())
				fmt.Fprintf(c, "req%d", i)
				got, err := io.ReadAll(c)
				if want := fmt.Sprintf("req%d", i); string(got) != want || err != nil {
					t.Errorf("connection %d: %q, %v; want %q and a close", i, got, err, want)
				}
			}
			if n := b.Accepted(); n != 3 {
				t.Errorf("Accepted = %d, want 3", n)
			}
		})
	}
}

// Close returns only after every Handle has: those whose connection it
// closes, and those busy with something else for a while.
func TestBackendCloseWaits(t *testing.T) {
	var ended atomic.Int32
	started := make(chan struct{}, 2)
	b := Serve(t, "tcp", func(c net.Conn) {
		started <- struct{}{}
		io.Copy(io.Discard, c) // until Close closes c
		time.Sleep(50 * time.Millisecond)
		ended.Add(1)
	})
	dial(t, b.Addr())
	dial(t, b.Addr())
	<-started
	<-started
	b.Close()
	if n := ended.Load(); n != 2 {
		t.Errorf("Close returned with %d of 2 Handles ended", n)
	}
	b.Close() // again: nothing to do
	if _, err := net.Dial("tcp", b.Addr()); err == nil {
		t.Error("dialled a closed Backend")
	}
}

func TestBackendTimeout(t *testing.T) {
	errc := make(chan error, 1)
	b := &Backend{Network: "unix", Timeout: 20 * time.Millisecond, Handle: func(c net.Conn) {
		_, err := c.Read(make([]byte, 1))
		errc <- err
	}}
	b.Start(t)
	dial(t, b.Addr()) // and send nothing
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read = %v, want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no deadline after 10s")
	}
}

// fakeTB records what a Backend reports, and runs the cleanups when told.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatal(args ...any) {
	f.Errorf("%s", fmt.Sprint(args...))
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func (f *fakeTB) cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func (f *fakeTB) reported() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.errs, "\n")
}

// run calls fn with the fake on a goroutine of its own, as Fatal ends it.
func (f *fakeTB) run(fn func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
}

func TestBackendMisuse(t *testing.T) {
	handle := func(net.Conn) {}
	for _, tc := range []struct {
		name, want string
		start      func(testing.TB)
	}{
		{"unknown network", `network "udp"`, func(tb testing.TB) { Serve(tb, "udp", handle) }},
		{"no handle", "without a Handle", func(tb testing.TB) { Serve(tb, "tcp", nil) }},
		{"started twice", "started twice", func(tb testing.TB) { Serve(tb, "tcp", handle).Start(tb) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTB{TB: t}
			f.run(tc.start)
			defer f.cleanup()
			if got := f.reported(); !strings.Contains(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("not started", func(t *testing.T) {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "before Start") {
				t.Errorf("Addr before Start: recovered %v, want a panic", r)
			}
		}()
		(&Backend{Handle: handle}).Addr()
	})
}

// A Handle that does not return when its connection is closed fails the
// test at cleanup instead of hanging it.
func TestBackendStuckHandle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeTB{TB: t}
		started, release := make(chan struct{}), make(chan struct{})
		b := Serve(f, "tcp", func(net.Conn) {
			close(started)
			<-release
		})
		dial(t, b.Addr())
		<-started
		f.cleanup()
		if got := f.reported(); !strings.Contains(got, "1 connection Handles still running 10s") {
			t.Errorf("reported %q, want the Handle still running", got)
		}
		close(release)
	})
}
