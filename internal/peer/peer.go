// Package peer finds, starts and stops the real servers that interop tests
// talk to (nginx, uWSGI, Apache, PHP-FPM, fcgiwrap, ...).
//
// The rules every starter follows:
//
//   - [Require] skips the test when the program is missing, and fails it
//     when the environment variable CI is "true" (CI installs every peer);
//   - peers listen on loopback ports picked with [FreePort] (or unix
//     sockets), with every config, pid, log and temp file in t.TempDir();
//   - a peer is started with [Start] (package proc) in its own process
//     group and stopped in t.Cleanup: first the signal its docs name for
//     a clean stop, then SIGKILL to the group after a grace period;
//   - [Process.WaitDial] waits until the peer accepts connections, and
//     fails the test with the peer's output if it exits first.
//
// This file holds the core and nginx and uWSGI; other peers live in their
// own files of this package.
package peer

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopaste/gopaste/proc"
)

// known lists where Debian puts programs that are not on a default PATH.
var known = map[string][]string{
	"nginx":    {"/usr/sbin/nginx"},
	"apache2":  {"/usr/sbin/apache2"},
	"php-fpm":  {"/usr/sbin/php-fpm8.2", "/usr/sbin/php-fpm"},
	"fcgiwrap": {"/usr/sbin/fcgiwrap"},
	"python3":  {"/usr/bin/python3"}, // Debian's, with Debian's modules
	"perl":     {"/usr/bin/perl"},
}

// Find returns the path of program name, or "" when it is not installed.
func Find(name string) string {
	for _, p := range known[name] {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

// Require returns the path of program name. When it is missing the test
// is skipped, or failed when CI=true.
func Require(t testing.TB, name string) string {
	t.Helper()
	p := Find(name)
	if p == "" {
		Missing(t, "%s is not installed", name)
	}
	return p
}

// Missing skips the test (fails it when CI=true) for a peer that is not
// usable here; format says why.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("peer missing under CI=true: %s", msg)
	}
	t.Skipf("peer missing: %s", msg)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WriteFile writes content to dir/name (creating directories) and returns
// the path.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Process is a running peer (see [proc.Process] for its pid, signals and
// exit). Its combined output goes to a file in the test's temp dir, shown
// when a wait fails.
type Process struct {
	*proc.Process
	Name    string // the program's base name
	LogPath string
}

// StartOptions tune Start.
type StartOptions struct {
	Dir  string         // working directory; default a new t.TempDir()
	Env  []string       // extra environment, added to the test's
	Stop syscall.Signal // the clean-stop signal; default SIGTERM
	// Grace is how long Stop waits before SIGKILL; default 5s.
	Grace time.Duration
}

// Start runs name with args in its own process group and stops it in
// t.Cleanup: opts.Stop to its group, then SIGKILL to the group after
// opts.Grace (see [proc.Process.Stop]).
func Start(t testing.TB, opts StartOptions, name string, args ...string) *Process {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	logPath := filepath.Join(opts.Dir, filepath.Base(name)+".out")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the peer has its own copy
	p, err := proc.Start(context.Background(), proc.Cmd{
		Path: name, Args: append([]string{name}, args...), Dir: opts.Dir,
		Env: append(os.Environ(), opts.Env...), Stdout: out, Stderr: out,
		StopSignal: opts.Stop, Grace: opts.Grace,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return &Process{Process: p, Name: filepath.Base(name), LogPath: logPath}
}

// Exited reports whether the peer has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// Output returns what the peer has written so far.
func (p *Process) Output() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// WaitDial waits until network/addr accepts a connection, for up to 15s.
// It fails the test, with the peer's output, if the peer exits first or
// the time runs out.
func (p *Process) WaitDial(t testing.TB, network, addr string) {
	t.Helper()
	if err := p.waitDial(network, addr, 15*time.Second); err != nil {
		t.Fatalf("%s: %v\n%s", p.Name, err, p.Output())
	}
}

func (p *Process) waitDial(network, addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	return p.Process.WaitDial(ctx, network, addr)
}

// Nginx is a running nginx.
type Nginx struct {
	*Process
	Port int    // the port of the server block
	Dir  string // prefix directory: nginx.conf, logs, temp files
}

// URL returns http://127.0.0.1:PORT + path.
func (n *Nginx) URL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(n.Port) + path
}

// ErrorLog returns nginx's error log so far.
func (n *Nginx) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "error.log"))
	return string(b)
}

// StartNginx runs nginx with one server block on a free loopback port;
// serverBody is the inside of that block (locations, scgi_pass, ...).
// See StartNginxHTTP to add http-level directives such as upstream.
func StartNginx(t testing.TB, serverBody string) *Nginx {
	t.Helper()
	return StartNginxHTTP(t, "", serverBody)
}

// StartNginxHTTP is StartNginx with httpBody added at the http level. The
// config is a complete nginx.conf in t.TempDir() ("daemon off; master_process
// on;", pid, logs and temp paths in that directory; stock params files are
// included by absolute path, e.g. "include /etc/nginx/scgi_params;").
func StartNginxHTTP(t testing.TB, httpBody, serverBody string) *Nginx {
	t.Helper()
	bin := Require(t, "nginx")
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody and could not use the
		// temp directories in a root-owned t.TempDir().
		user = "user root;\n"
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		conf := fmt.Sprintf(`%sdaemon off;
master_process on;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 1024; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    default_type application/octet-stream;
%[3]s
    server {
        listen 127.0.0.1:%[4]d;
        server_name localhost;
%[5]s
    }
}
`, user, dir, indent(httpBody, "    "), port, indent(serverBody, "        "))
		confPath := WriteFile(t, dir, "nginx.conf", conf)
		p := Start(t, StartOptions{Dir: dir, Stop: syscall.SIGQUIT},
			bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
		err := p.waitDial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 15*time.Second)
		if err == nil {
			return &Nginx{Process: p, Port: port, Dir: dir}
		}
		lastErr = fmt.Errorf("%v\n%s", err, p.Output())
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		if !strings.Contains(string(b), "Address already in use") {
			break // not a lost port race: do not retry
		}
	}
	t.Fatalf("nginx: %v", lastErr)
	return nil
}

func indent(s, pre string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pre + l
		}
	}
	return strings.Join(lines, "\n")
}

// StartUWSGI runs uwsgi with args (give it the plugins, sockets and app,
// e.g. "--plugin", "python3", "--scgi-socket", addr, "--wsgi-file", f) and
// stops it with SIGINT: uWSGI 2.0 takes SIGTERM as a reload. Wait for its
// socket with WaitDial.
func StartUWSGI(t testing.TB, args ...string) *Process {
	t.Helper()
	bin := Require(t, "uwsgi")
	return Start(t, StartOptions{Stop: syscall.SIGINT}, bin, args...)
}
