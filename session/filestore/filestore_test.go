package filestore_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/filestore"
	"github.com/gopaste/gopaste/session/storetest"
)

// TestMain re-runs the test binary as a lock holder that the test kills,
// to show that a dead process's lock goes away.
func TestMain(m *testing.M) {
	if spec := os.Getenv("FILESTORE_TEST_HOLD_LOCK"); spec != "" {
		dir, key, _ := strings.Cut(spec, "|")
		s, err := filestore.New(dir, filestore.Options{CleanupInterval: -1})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if _, err := s.Lock(context.Background(), key, time.Hour); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		select {} // until killed
	}
	os.Exit(m.Run())
}

func open(t *testing.T, dir string, log *slog.Logger) *filestore.Store {
	s, err := filestore.New(dir, filestore.Options{CleanupInterval: -1, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) session.Store {
		return open(t, storetest.Dir(t), nil) // a new handle on the same directory
	})
}

func TestCorruptFileIsAbsent(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	s := open(t, dir, slog.New(slog.NewTextHandler(&logs, nil)))
	for name, content := range map[string]string{
		"garbage": "not a session file",
		"badnum":  "gopaste-session 1 12x\n{}",
		"nonl":    "gopaste-session 1 99999999999999",
	} {
		os.MkdirAll(filepath.Join(dir, name[:2]), 0o700)
		if err := os.WriteFile(filepath.Join(dir, name[:2], name+".session"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		data, found, err := s.Find(t.Context(), name)
		if err != nil || found {
			t.Errorf("%s: Find = %q, %v, %v; want absent, no error", name, data, found, err)
		}
	}
	if !strings.Contains(logs.String(), "corrupt session file") {
		t.Errorf("corrupt files not reported:\n%s", logs.String())
	}
	if err := s.DeleteExpired(time.Now()); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "*")); len(left) != 0 {
		t.Errorf("cleanup left %v", left)
	}
}

func TestKeysStayInside(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	for _, key := range []string{"../x", "a/b", ".tmp-x", "", "a.session", strings.Repeat("a", 200)} {
		if err := s.Commit(t.Context(), key, []byte("x"), time.Now().Add(time.Hour)); err == nil {
			t.Errorf("Commit(%q): no error", key)
		}
	}
}

func TestCleanup(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	ctx := t.Context()
	s.Commit(ctx, "old", []byte("x"), time.Now().Add(-2*time.Minute))
	s.Commit(ctx, "justexpired", []byte("x"), time.Now().Add(-time.Second))
	s.Commit(ctx, "live", []byte("x"), time.Now().Add(time.Hour))
	tmp := filepath.Join(dir, "li", ".tmp-stale")
	os.WriteFile(tmp, nil, 0o600)
	os.Chtimes(tmp, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	if err := s.DeleteExpired(time.Now()); err != nil {
		t.Fatal(err)
	}
	var names []string
	left, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	for _, p := range left {
		names = append(names, filepath.Base(p))
	}
	if got := strings.Join(names, " "); got != "justexpired.session live.session" {
		t.Errorf("after cleanup: %s; want the one-minute grace kept and the live file", got)
	}
}

func TestLockDiesWithProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FILESTORE_TEST_HOLD_LOCK="+dir+"|k")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("child said %q", line)
	}
	s := open(t, dir, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	_, err = s.Lock(ctx, "k", time.Second)
	cancel()
	if err == nil {
		t.Fatal("got the lock a live process holds")
	}
	cmd.Process.Kill()
	cmd.Wait()
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, "k", time.Second)
	if err != nil {
		t.Fatalf("lock of a killed holder: %v", err)
	}
	unlock(ctx)
}

func TestTwoManagers(t *testing.T) {
	storetest.RunManagers(t, func(t *testing.T) session.Store { return open(t, storetest.Dir(t), nil) })
}

func TestCleanupStaleLockFiles(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	held, err := s.Lock(t.Context(), "held", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer held(t.Context())
	stale := filepath.Join(dir, "st", "stale.lock")
	os.MkdirAll(filepath.Dir(stale), 0o700)
	os.WriteFile(stale, nil, 0o600)
	old := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{stale, filepath.Join(dir, "he", "held.lock")} {
		os.Chtimes(p, old, old)
	}
	if err := s.DeleteExpired(time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a stale, unheld lock file was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "he", "held.lock")); err != nil {
		t.Errorf("a held lock file was removed: %v", err)
	}
}
