package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childVar makes the test binary act as the child (see TestMain).
const childVar = "GOPASTE_PROC_CHILD"

// TestMain re-runs the test binary as a child process when childVar
// names what to do, as net/http/cgi's integration tests do.
func TestMain(m *testing.M) {
	mode := os.Getenv(childVar)
	if mode == "" {
		os.Exit(m.Run())
	}
	os.Unsetenv(childVar)
	switch mode {
	case "lines":
		fmt.Println("first")
		fmt.Fprintln(os.Stderr, strings.Repeat("x", 10000))
		fmt.Print("last")
	case "exit3":
		os.Exit(3)
	case "stderr-exit":
		fmt.Fprint(os.Stderr, strings.Repeat("y", 100)+"\nImportError: no module named app\n")
		os.Exit(1)
	case "sleep":
		time.Sleep(time.Minute)
	case "term":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		fmt.Println("ready")
		<-c
		fmt.Println("got terminated")
	case "ignore-term", "orphan":
		signal.Ignore(syscall.SIGTERM)
		gc := exec.Command(os.Args[0])
		gc.Env = append(os.Environ(), childVar+"=sleep")
		if err := gc.Start(); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Printf("grandchild=%d\n", gc.Process.Pid)
		if mode == "ignore-term" {
			time.Sleep(time.Minute)
		}
	case "parent":
		gc, err := Start(context.Background(), Cmd{Path: os.Args[0], Env: append(os.Environ(), childVar+"=sleep"), Stdout: os.Stdout})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Printf("grandchild=%d\n", gc.Pid())
		time.Sleep(time.Minute)
	case "listen":
		ls, err := Listeners()
		if err != nil || len(ls) != 1 {
			fmt.Printf("listeners %d, %v\n", len(ls), err)
			os.Exit(1)
		}
		c, err := ls[0].Accept()
		if err != nil {
			os.Exit(1)
		}
		fmt.Fprintf(c, "pid=%d env=%q", os.Getpid(), os.Getenv("LISTEN_FDS"))
		c.Close()
	default:
		os.Exit(2)
	}
	os.Exit(0)
}

// child starts the test binary as child mode, its stdout readable line by
// line from the returned reader.
func child(t *testing.T, ctx context.Context, mode string, c Cmd) (*Process, *bufio.Reader) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	c.Path = os.Args[0]
	c.Env = append(os.Environ(), childVar+"="+mode)
	c.Stdout = w
	p, err := Start(ctx, c)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(); <-p.Done() })
	return p, bufio.NewReader(r)
}

func readLine(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	s, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("child output: %q, %v", s, err)
	}
	return strings.TrimSpace(s)
}

// waitEOF reads the child's output to its end, which comes once every
// process holding it, the grandchild included, is dead.
func waitEOF(t *testing.T, br *bufio.Reader) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, br)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the grandchild still holds the output open")
	}
}

// grandchild waits until the child says its grandchild runs.
func grandchild(t *testing.T, br *bufio.Reader) {
	t.Helper()
	line := readLine(t, br)
	if _, err := strconv.Atoi(strings.TrimPrefix(line, "grandchild=")); err != nil {
		t.Fatalf("child said %q", line)
	}
}

func TestRealOutputLogged(t *testing.T) {
	h := &lineHandler{}
	p, err := Start(t.Context(), Cmd{Path: os.Args[0], Env: append(os.Environ(), childVar+"=lines"),
		Logger: slog.New(h), MaxLine: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(p.Pid())
	x := strings.Repeat("x", 4096)
	want := map[string]bool{"INFO " + pid + " first": true, "INFO " + pid + " last": true,
		"WARN " + pid + " " + x: true, "WARN " + pid + " " + x[:10000-2*4096]: true}
	got := map[string]int{}
	for _, l := range h.lines {
		got[l]++
	}
	if len(h.lines) != 5 || got["WARN "+pid+" "+x] != 2 {
		t.Errorf("logged %d lines, want 5 with the long one in three pieces", len(h.lines))
	}
	for l := range want {
		if got[l] == 0 {
			t.Errorf("missing log line %.40q...", l)
		}
	}
}

func TestRealExitStatus(t *testing.T) {
	p, _ := child(t, t.Context(), "exit3", Cmd{})
	err := p.Wait(t.Context())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || ExitStatus(err) != "exit status 3" {
		t.Errorf("Wait = %v (%q), want exit status 3", err, ExitStatus(err))
	}
}

// A child that ignores SIGTERM is killed after the grace, with the
// grandchild in its group.
func TestRealStopKillsGroup(t *testing.T) {
	p, br := child(t, t.Context(), "ignore-term", Cmd{Grace: 200 * time.Millisecond})
	grandchild(t, br)
	start := time.Now()
	err := p.Stop()
	if ExitStatus(err) != "killed by SIGKILL" {
		t.Errorf("Stop = %v, want killed by SIGKILL", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("Stop took %v with a grace of 200ms", d)
	}
	waitEOF(t, br)
}

// When the leader exits, what it left in its group is killed, and the
// output ends even though the grandchild held it open.
func TestRealLeaderExitKillsGroup(t *testing.T) {
	p, br := child(t, t.Context(), "orphan", Cmd{})
	grandchild(t, br)
	if err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitEOF(t, br)
}

// A child started with Start gets its StopSignal when its parent is
// killed without stopping it: the grandchild, in a group of its own that
// the parent's group kill misses, does not live on with pid 1 as its
// parent.
func TestRealParentDeathStopsChild(t *testing.T) {
	p, br := child(t, t.Context(), "parent", Cmd{})
	grandchild(t, br)
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitEOF(t, br)
}

// The end of Start's context stops the child with StopSignal.
func TestRealContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	p, br := child(t, ctx, "term", Cmd{Grace: 10 * time.Second})
	if s := readLine(t, br); s != "ready" {
		t.Fatalf("child said %q", s)
	}
	cancel()
	if s := readLine(t, br); s != "got terminated" {
		t.Errorf("child said %q, want it to see SIGTERM", s)
	}
	wctx, wcancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer wcancel()
	if err := p.Wait(wctx); errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("child still running 5s after its context ended")
	}
}

func TestRealWaitDeadline(t *testing.T) {
	p, _ := child(t, t.Context(), "sleep", Cmd{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v, want DeadlineExceeded", err)
	}
	if err := p.Signal(0); err != nil {
		t.Errorf("child gone after Wait's deadline: %v", err)
	}
}

// A listener passed as fd 3 with ListenEnv is found by Listeners in the
// child, with LISTEN_PID naming the child itself.
func TestRealListenEnv(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("LISTEN_FDS", "7") // ours, must not reach the child
	p, _ := child(t, t.Context(), "listen", Cmd{ExtraFiles: []*os.File{f}, ListenEnv: true})
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c)
	if want := fmt.Sprintf("pid=%d env=\"\"", p.Pid()); string(b) != want {
		t.Errorf("child answered %q, want %q", b, want)
	}
	if err := p.Wait(t.Context()); err != nil {
		t.Errorf("child: %v", err)
	}
}

// StderrTail keeps the end of what the child wrote to stderr, which is
// also logged.
func TestRealStderrTail(t *testing.T) {
	h := &lineHandler{}
	p, err := Start(t.Context(), Cmd{Path: os.Args[0], Env: append(os.Environ(), childVar+"=stderr-exit"),
		Logger: slog.New(h), StderrTail: 40})
	if err != nil {
		t.Fatal(err)
	}
	p.Wait(t.Context())
	want := "yyyyyy\nImportError: no module named app\n"
	if got := p.StderrTail(); got != want {
		t.Errorf("StderrTail = %q, want %q", got, want)
	}
	if n := len(h.lines); n != 2 {
		t.Errorf("logged %d lines, want 2", n)
	}
}
