// Package servetest runs "gopaste serve" in-process for tests: the
// tests of cli and of the parts whose behaviour shows only under serve
// (the process app's reloads and signals).
package servetest

import (
	"context"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/internal/logbuf"
)

// Served is a "gopaste serve" running in-process.
type Served struct {
	stop context.CancelFunc
	code chan int
}

var addrRE = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

// Serve runs "gopaste serve args..." with env (its context and standard
// error set here, standard output discarded unless set) until the test
// ends or Stop, and returns the first address it logged listening on.
func Serve(t testing.TB, env *cli.Env, logs *logbuf.Buffer, args ...string) (string, *Served) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	env.Context, env.Stderr = ctx, logs
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	s := &Served{stop: cancel, code: make(chan int, 1)}
	done := make(chan struct{})
	go func() { s.code <- cli.Main(env, append([]string{"serve"}, args...)); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			return m[1], s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address logged:\n%s", logs.String())
		}
	}
}

// Stop cancels serve's context and wants exit status 0.
func (s *Served) Stop(t testing.TB, logs *logbuf.Buffer) {
	t.Helper()
	s.stop()
	if code := <-s.code; code != 0 {
		t.Errorf("serve exited %d:\n%s", code, logs.String())
	}
}
