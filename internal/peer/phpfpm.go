package peer

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// PHPFPM is a running PHP-FPM pool.
type PHPFPM struct {
	*Process
	Addr string // host:port of the pool
	Dir  string // config, pid and logs
}

// StartPHPFPM runs PHP-FPM in the foreground (-F, daemonize = no; -R when
// the test runs as root) with one static pool of children workers on a
// free loopback port. Workers' stderr is caught into the FastCGI STDERR
// stream (catch_workers_output).
func StartPHPFPM(t testing.TB, children int) *PHPFPM {
	t.Helper()
	bin := Require(t, "php-fpm")
	dir := t.TempDir()
	port := FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := fmt.Sprintf(`[global]
pid = %[1]s/php-fpm.pid
error_log = %[1]s/php-fpm.log
daemonize = no

[gopaste]
listen = %[2]s
pm = static
pm.max_children = %[3]d
catch_workers_output = yes
`, dir, addr, children)
	if os.Geteuid() == 0 {
		conf += "user = root\ngroup = root\n"
	}
	confPath := WriteFile(t, dir, "php-fpm.conf", conf)
	args := []string{"-F", "-n", "-y", confPath, "-p", dir}
	if os.Geteuid() == 0 {
		args = append(args, "-R")
	}
	p := Start(t, StartOptions{Dir: dir, Stop: syscall.SIGQUIT}, bin, args...)
	if err := p.waitDial("tcp", addr, 15e9); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "php-fpm.log"))
		t.Fatalf("php-fpm: %v\n%s\n%s", err, p.Output(), log)
	}
	return &PHPFPM{Process: p, Addr: addr, Dir: dir}
}
