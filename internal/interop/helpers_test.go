// Package interop holds the end-to-end tests that cross packages: Apache
// in front of gopaste's protocol servers and CGI programs, and gopaste's
// own proxies in front of its own servers.
package interop

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/gopaste/gopaste/builtin"
	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/internal/peer"
)

// shared is a directory every user can read, for files Apache's workers
// (www-data when the tests run as root) must reach: t.TempDir()'s parent
// is private to root.
var (
	sharedOnce sync.Once
	sharedDir  string
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := peer.Main(m)
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

func shared(t *testing.T) string {
	t.Helper()
	sharedOnce.Do(func() {
		sharedDir, sharedErr = os.MkdirTemp("", "gopaste-interop-")
		if sharedErr == nil {
			sharedErr = os.Chmod(sharedDir, 0o755)
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedDir
}

// publicDir makes a new world-readable directory under shared.
func publicDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp(shared(t), "t-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o755)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// gopaste is the command, built once in a world-readable directory.
func gopaste(t *testing.T) string { return peer.Gopaste(t) }

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, mode)
}

// serveSections builds the app "main" and each named server section of
// the config text and runs them until the test ends. It waits until each
// server's port (key "port" of the section, given in ports) answers.
func serveSections(t *testing.T, config string, ports map[string]int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "servers.ini")
	writeFile(t, path, config, 0o644)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := deploy.Options{Logger: logger}
	app, err := deploy.BuildApp(path, "main", opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		app.Close()
	})
	for name, port := range ports {
		gen, err := deploy.Load(path, "main", name, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gen.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := gen.Server.Run(ctx, app.Handler); err != nil {
				t.Errorf("server %s: %v", name, err)
			}
		}()
		waitPort(t, port)
	}
}

func waitPort(t *testing.T, port int) {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// envReply is what the env app answered.
type envReply map[string]any

func (e envReply) get(k string) string {
	s, _ := e[k].(string)
	return s
}

// fetch sends a request and decodes the env app's JSON answer.
func fetch(t *testing.T, method, url, body string) envReply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Interop", "yes")
	return do(t, req)
}

// do sends req and decodes the env app's JSON answer.
func do(t *testing.T, req *http.Request) envReply {
	t.Helper()
	method, url := req.Method, req.URL.String()
	c := &http.Client{Timeout: 20 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s %s: %d\n%s", method, url, res.StatusCode, b)
	}
	var e envReply
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s %s: %v\n%s", method, url, err, b)
	}
	return e
}

// check compares the variables the env app saw with want.
func check(t *testing.T, label string, got envReply, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got.get(k) != v {
			t.Errorf("%s: %s = %q, want %q", label, k, got.get(k), v)
		}
	}
}

// snippet reads a testdata config snippet and checks that docs/protocols.md
// quotes it verbatim.
func snippet(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/protocols.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), string(b)) {
		t.Errorf("docs/protocols.md does not quote testdata/%s verbatim", name)
	}
	return string(b)
}
