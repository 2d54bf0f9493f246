package peer

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Apache is a running Apache httpd.
type Apache struct {
	*Process
	Port int
	Dir  string // ServerRoot: httpd.conf, logs, pid file
}

// URL returns http://127.0.0.1:PORT + path.
func (a *Apache) URL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(a.Port) + path
}

// ErrorLog returns Apache's error log so far.
func (a *Apache) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(a.Dir, "error.log"))
	return string(b)
}

// apacheModules are loaded in every config: the event MPM, the proxy
// modules of every gateway protocol, and what they lean on.
var apacheModules = []string{
	"mpm_event", "unixd", "authz_core", "log_config",
	"proxy", "proxy_http", "proxy_scgi", "proxy_uwsgi", "proxy_fcgi",
}

// StartApache runs Debian's apache2 in the foreground on a free loopback
// port with a complete config in t.TempDir(); body is added at server
// level (ProxyPass lines, <Location> blocks). It is stopped with SIGTERM.
func StartApache(t testing.TB, body string) *Apache {
	t.Helper()
	bin := Require(t, "apache2")
	modDir := "/usr/lib/apache2/modules"
	for _, m := range apacheModules {
		if _, err := os.Stat(filepath.Join(modDir, "mod_"+m+".so")); err != nil && m != "unixd" && m != "log_config" {
			Missing(t, "apache module %s", m)
		}
	}
	dir := t.TempDir()
	// Workers drop to www-data when started as root; they only proxy,
	// but must be able to reach the directory.
	os.Chmod(dir, 0o755)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		var conf strings.Builder
		fmt.Fprintf(&conf, "ServerRoot %s\nServerName 127.0.0.1\nListen 127.0.0.1:%d\n", dir, port)
		for _, m := range apacheModules {
			p := filepath.Join(modDir, "mod_"+m+".so")
			if _, err := os.Stat(p); err == nil {
				fmt.Fprintf(&conf, "LoadModule %s_module %s\n", m, p)
			}
		}
		if os.Geteuid() == 0 {
			conf.WriteString("User www-data\nGroup www-data\n")
		}
		fmt.Fprintf(&conf, `PidFile %[1]s/httpd.pid
DefaultRuntimeDir %[1]s
Mutex file:%[1]s
ErrorLog %[1]s/error.log
LogLevel warn proxy:info
StartServers 1
ServerLimit 1
ThreadsPerChild 25
MaxRequestWorkers 25
%[2]s
`, dir, body)
		confPath := WriteFile(t, dir, "httpd.conf", conf.String())
		p := Start(t, StartOptions{Dir: dir, Stop: syscall.SIGTERM},
			bin, "-f", confPath, "-d", dir, "-DFOREGROUND")
		err := p.waitDial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 15*time.Second)
		if err == nil {
			return &Apache{Process: p, Port: port, Dir: dir}
		}
		b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		lastErr = fmt.Errorf("%v\n%s\n%s", err, p.Output(), b)
		if !strings.Contains(string(b)+p.Output(), "Address already in use") {
			break
		}
	}
	t.Fatalf("apache2: %v", lastErr)
	return nil
}
