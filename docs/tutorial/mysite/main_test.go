package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/gopastetest"
)

// site copies site.ini and users.htpasswd into a new directory (the
// session database goes beside them) and returns the config's path.
func site(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"site.ini", "users.htpasswd"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "site.ini")
}

func TestNotes(t *testing.T) {
	app := gopastetest.LoadConfig(t, site(t), "main")
	app.Get("/").MustStatus(200).MustContain("to write notes", "Visit number 1")
	// A wrong password gets the form back; the right one logs in.
	app.Get("/login").Form("").Set("user", "alice").Set("password", "wrong").Submit("login").
		MustStatus(200).MustContain("Wrong name or password.")
	app.Get("/login").Form("").Set("user", "alice").Set("password", "wonderland").Submit("login").
		MustStatus(303).MustHeader("Location", "/")
	home := app.Get("/").MustStatus(200).MustContain("Hello, alice!", "Visit number 2")
	// A note is added, and shown escaped.
	home.Form("").Set("note", "buy <milk>").Submit("add").MustStatus(303)
	app.Get("/").MustContain("<li>buy &lt;milk&gt;</li>", "Visit number 4")
	// Logged out: a new session, without the notes.
	app.Get("/logout").Form("").Submit("logout").MustStatus(303)
	app.Get("/").MustContain("to write notes", "Visit number 1").MustNotContain("milk")
}

// TestCommands runs step 4 of the tutorial: "go build -o mysite .",
// "./mysite request site.ini /", then "./mysite serve site.ini" (on a
// free port) and a request to it.
func TestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	cfg := site(t)
	bin := filepath.Join(t.TempDir(), "mysite")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "request", cfg, "/").Output()
	if err != nil || !strings.HasPrefix(string(out), "HTTP/1.1 200 OK") || !strings.Contains(string(out), "Visit number 1") {
		t.Errorf("mysite request: %v\n%s", err, out)
	}

	logs := &lockedBuffer{}
	cmd := exec.Command(bin, "serve", cfg, "--port", "0")
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("mysite serve: %v\n%s", err, logs.String())
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Error("mysite serve did not stop on SIGTERM")
		}
	}()
	addr := regexp.MustCompile(`msg=listening .*addr=(\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	var m []string
	for m = addr.FindStringSubmatch(logs.String()); m == nil; m = addr.FindStringSubmatch(logs.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("mysite serve never said where it listens:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := http.Get("http://" + m[1] + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `name="password"`) {
		t.Errorf("GET /login: %d\n%s", res.StatusCode, b)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestMissingSecret: the factory's error names the key.
func TestMissingSecret(t *testing.T) {
	cfg := site(t)
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "secret = ", "# secret = ", 1)), 0o644)
	_, closer, err := deploy.LoadApp(cfg, "main")
	if err == nil {
		closer.Close()
		t.Fatal("no error without secret")
	}
	if !strings.Contains(err.Error(), "[app:notes]") || !strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q does not name the section and key", err)
	}
}
