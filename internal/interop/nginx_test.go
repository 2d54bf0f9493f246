package interop

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// TestNginxFcgiwrapCGI2SCGI: nginx → fcgiwrap → "gopaste cgi2scgi" →
// gopaste's SCGI server → the env app, with the snippet the docs quote.
func TestNginxFcgiwrapCGI2SCGI(t *testing.T) {
	fcgiwrap := peer.Require(t, "fcgiwrap")
	peer.Require(t, "nginx")
	bin := gopaste(t)
	ports := map[string]int{"scgi": peer.FreePort(t)}
	serveSections(t, fmt.Sprintf("[app:main]\nuse = env\n\n[server:scgi]\nuse = scgi\nport = %d\n", ports["scgi"]), ports)

	dir := publicDir(t)
	wrapper := filepath.Join(dir, "cgi2scgi.sh")
	writeFile(t, wrapper, "#!/bin/sh\nexec "+bin+" cgi2scgi\n", 0o755)
	fport := peer.FreePort(t)
	// fcgiwrap's children outlive a signal to the parent: peer.Start
	// kills the whole process group.
	fw := peer.Start(t, peer.StartOptions{Stop: syscall.SIGTERM}, fcgiwrap,
		"-c", "2", "-s", fmt.Sprintf("tcp:127.0.0.1:%d", fport))
	fw.WaitDial(t, "tcp", fmt.Sprintf("127.0.0.1:%d", fport))

	conf := strings.NewReplacer(
		"127.0.0.1:9000", fmt.Sprintf("127.0.0.1:%d", fport),
		"127.0.0.1:4000", fmt.Sprintf("127.0.0.1:%d", ports["scgi"]),
		"/usr/lib/cgi-bin/cgi2scgi.sh", wrapper,
	).Replace(snippet(t, "nginx-fcgiwrap.conf"))
	n := peer.StartNginx(t, conf)

	got := fetch(t, "GET", n.URL("/cgi2scgi/a/b?x=1"), "")
	check(t, "GET", got, map[string]string{
		"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/cgi2scgi", "PATH_INFO": "/a/b",
		"QUERY_STRING": "x=1", "REQUEST_URI": "/cgi2scgi/a/b?x=1", "HTTP_X_INTEROP": "yes",
		"REMOTE_ADDR": "127.0.0.1",
	})
	got = fetch(t, "POST", n.URL("/cgi2scgi/form"), "name=gopher&n=1")
	check(t, "POST", got, map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/cgi2scgi", "PATH_INFO": "/form",
		"CONTENT_LENGTH": "15", "body": "name=gopher&n=1",
	})
	if t.Failed() {
		t.Logf("nginx: %s\nfcgiwrap: %s", n.ErrorLog(), fw.Output())
	}
}
