package peer

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestStartNginx(t *testing.T) {
	var pid int
	t.Run("serve", func(t *testing.T) {
		n := StartNginx(t, `location / { return 200 "hello from nginx\n"; }`)
		pid = n.Pid()
		res, err := http.Get(n.URL("/x"))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(b) != "hello from nginx\n" {
			t.Errorf("GET = %d %q, want 200 hello", res.StatusCode, b)
		}
	})
	if pid != 0 && syscall.Kill(pid, 0) == nil {
		t.Errorf("nginx %d still running after its test ended", pid)
	}
}

func TestStartUWSGI(t *testing.T) {
	var pid int
	t.Run("serve", func(t *testing.T) {
		dir := t.TempDir()
		app := WriteFile(t, dir, "app.py", "def application(env, start):\n    start('200 OK', [('Content-Type', 'text/plain')])\n    return [b'hi']\n")
		addr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
		p := StartUWSGI(t, "--plugin", "python3", "--master", "--http-socket", addr, "--wsgi-file", app)
		pid = p.Pid()
		p.WaitDial(t, "tcp", addr)
		res, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("%v\n%s", err, p.Output())
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.TrimSpace(string(b)) != "hi" {
			t.Errorf("body = %q, want hi", b)
		}
	})
	if pid != 0 && syscall.Kill(pid, 0) == nil {
		t.Errorf("uwsgi %d still running after its test ended (SIGINT must stop it)", pid)
	}
}

func TestFindMissing(t *testing.T) {
	if p := Find("no-such-program-gopaste"); p != "" {
		t.Fatalf("Find = %q for a program that does not exist", p)
	}
}

func TestStartApache(t *testing.T) {
	backend := StartNginx(t, `location / { return 200 "via apache\n"; }`)
	a := StartApache(t, `ProxyPass "/" "`+backend.URL("/")+`"`)
	res, err := http.Get(a.URL("/x"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "via apache\n" {
		t.Errorf("GET = %d %q\n%s", res.StatusCode, b, a.ErrorLog())
	}
}

func TestLeftovers(t *testing.T) {
	t.Setenv(ownerEnv, strconv.Itoa(os.Getpid()))
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(cmd.Process.Pid) + " "
	found := func() bool {
		for _, l := range Leftovers() {
			if strings.HasPrefix(l, pid) {
				return strings.Contains(l, "sleep 30")
			}
		}
		return false
	}
	if !found() {
		t.Errorf("Leftovers() = %q, want the sleep %s", Leftovers(), pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if found() {
		t.Errorf("Leftovers() = %q after the sleep was reaped", Leftovers())
	}
}

func TestMain(m *testing.M) { os.Exit(Main(m)) }
