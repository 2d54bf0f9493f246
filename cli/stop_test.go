package cli_test

import (
	"bufio"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writePid(t *testing.T, pid int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gopaste.pid")
	if err := os.WriteFile(p, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPidFileCommandsArgs(t *testing.T) {
	for _, cmd := range []string{"stop", "reload", "restart"} {
		if code, _, errs := run(t, cmd); code != 2 || !strings.Contains(errs, "one PIDFILE argument is required") {
			t.Errorf("%s without PIDFILE: exit %d %q", cmd, code, errs)
		}
		missing := filepath.Join(t.TempDir(), "none.pid")
		if code, _, errs := run(t, cmd, missing); code != 1 || !strings.Contains(errs, "none.pid") {
			t.Errorf("%s with a missing pid file: exit %d %q", cmd, code, errs)
		}
	}
}

// TestReloadSignals: gopaste reload sends SIGHUP to the pid in the file.
func TestReloadSignals(t *testing.T) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP)
	defer signal.Stop(c)
	code, out, errs := run(t, "reload", writePid(t, os.Getpid()))
	if code != 0 || !strings.Contains(out, "asked "+strconv.Itoa(os.Getpid())+" to reload") {
		t.Fatalf("exit %d %q %q", code, out, errs)
	}
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatal("no SIGHUP arrived")
	}
}

// TestStopWaits: gopaste stop sends SIGTERM and returns once the process
// is gone; a process that outlives --timeout is an error.
func TestStopWaits(t *testing.T) {
	start := func(stdout *os.File, args ...string) *exec.Cmd {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout = stdout
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the shell's sleep too is killed after
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go cmd.Wait() // reaps it, so that it is gone once it exits
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		return cmd
	}
	sleeper := start(nil, "sleep", "30")
	code, out, errs := run(t, "stop", writePid(t, sleeper.Process.Pid))
	if code != 0 || !strings.Contains(out, "stopped "+strconv.Itoa(sleeper.Process.Pid)) {
		t.Errorf("stop: exit %d %q %q", code, out, errs)
	}
	// The shell says when its trap is set: a SIGTERM before that would
	// end it.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stubborn := start(w, "sh", "-c", "trap '' TERM; echo armed; sleep 30")
	w.Close()
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := bufio.NewReader(r).ReadString('\n'); line != "armed\n" {
		t.Fatalf("the shell did not set its trap: %q %v", line, err)
	}
	code, _, errs = run(t, "stop", "--timeout", "300ms", writePid(t, stubborn.Process.Pid))
	if code != 1 || !strings.Contains(errs, "still running after 300ms") {
		t.Errorf("stop of a process ignoring SIGTERM: exit %d %q", code, errs)
	}
}
