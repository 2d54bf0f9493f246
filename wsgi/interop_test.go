package wsgi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/uwsgi"
)

// TestNginx: Flask behind nginx uwsgi_pass → gopaste's uwsgi server →
// the wsgi app.
func TestNginx(t *testing.T) {
	peer.Require(t, "nginx")
	a, _, logs := start(t, Options{Module: "app:app", Chdir: filepath.Join(testdata(t), "flask"), Workers: 2, Threads: 2}, "flask")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &uwsgi.Server{Handler: a, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(l) })
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	n := peer.StartNginx(t, fmt.Sprintf(`location / {
    include /etc/nginx/uwsgi_params;
    uwsgi_pass %s;
    client_max_body_size 20m;
}`, l.Addr()))
	c := client(t)
	if status, _, body := getWith(t, c, n.URL("/hello/%3Cb%3Enginx")); status != 200 || !strings.Contains(body, "Hello, &lt;b&gt;nginx!") {
		t.Errorf("GET /hello = %d %q", status, body)
	}
	if status, _, body := postForm(t, c, n.URL("/form"), url.Values{"name": {"Zoë"}}); status != 200 || body != "thanks, Zoë (none)" {
		t.Errorf("POST /form = %d %q", status, body)
	}
	for i := 1; i <= 2; i++ {
		if status, _, body := getWith(t, c, n.URL("/count")); status != 200 || body != fmt.Sprintf("visit %d", i) {
			t.Errorf("GET /count = %d %q, want visit %d", status, body, i)
		}
	}
	file := bytes.Repeat([]byte("0123456789"), 300000) // 3 MB
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "big.bin")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest("POST", n.URL("/upload"), &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if status, _, body := send(t, c, req); status != 200 || !strings.HasPrefix(body, "big.bin 3000000 ") {
		t.Errorf("upload = %d %q", status, body)
	}
	if status, _, body := getWith(t, c, n.URL("/stream")); status != 200 || body != "line 0\nline 1\nline 2\n" {
		t.Errorf("GET /stream = %d %q", status, body)
	}
	if t.Failed() {
		t.Log(n.ErrorLog())
	}
}

var ()

// gopaste is the command, built once for the tests of this package.
func gopaste(t *testing.T) string { return peer.Gopaste(t) }

func TestMain(m *testing.M) { os.Exit(peer.Main(m)) }

// TestServe runs "gopaste serve" on a config with a wsgi app behind the
// http server, as a user would; and on one whose module does not import,
// which must exit 1 with the traceback.
func TestServe(t *testing.T) {
	peer.RequirePython(t)
	bin := gopaste(t)
	dir := t.TempDir()
	port := peer.FreePort(t)
	peer.WriteFile(t, dir, "hello.py", "import os\n\ndef application(environ, start_response):\n"+
		"    body = ('hello from %d at %s' % (os.getpid(), environ['PATH_INFO'])).encode()\n"+
		"    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [body]\n")
	peer.WriteFile(t, dir, "broken.py", "import missing_dependency_of_broken\n")
	peer.WriteFile(t, dir, "site.ini", fmt.Sprintf("[app:main]\nuse = wsgi\nmodule = hello\nworkers = 2\n\n"+
		"[app:broken]\nuse = wsgi\nmodule = broken\nworkers = 1\n\n"+
		"[server:main]\nuse = http\nhost = 127.0.0.1\nport = %d\n", port))

	t.Run("import error", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "serve", "--app", "broken", filepath.Join(dir, "site.ini"))
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("gopaste serve = %v, want exit status 1\n%s", err, out)
		}
		for _, want := range []string{"[app:broken]", "Traceback (most recent call last)", "ModuleNotFoundError: No module named 'missing_dependency_of_broken'"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("serve", func(t *testing.T) {
		p := peer.Start(t, peer.StartOptions{Dir: dir, Env: []string{"PYTHONDONTWRITEBYTECODE=1"}},
			bin, "serve", filepath.Join(dir, "site.ini"))
		p.WaitDial(t, "tcp", "127.0.0.1:"+strconv.Itoa(port))
		res, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/caf%C3%A9")
		if err != nil {
			t.Fatalf("%v\n%s", err, p.Output())
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(string(b), "hello from ") {
			t.Errorf("GET = %d %q\n%s", res.StatusCode, b, p.Output())
		}
		// SIGTERM stops gopaste and its workers.
		p.Signal(syscall.SIGTERM)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Wait(ctx); err != nil {
			t.Errorf("gopaste serve after SIGTERM: %v\n%s", err, p.Output())
		}
		// The worker that answered is gone too.
		var pid int
		fmt.Sscanf(string(b), "hello from %d", &pid)
		if pid <= 1 {
			t.Fatalf("no worker pid in %q", b)
		}
		waitUntil(t, "the worker has exited", func() bool { return syscall.Kill(pid, 0) != nil })
	})
}
