package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// gatewayServers starts gopaste's scgi, uwsgi and fastcgi servers, each
// serving the env app, and returns their ports by section name.
func gatewayServers(t *testing.T) map[string]int {
	t.Helper()
	ports := map[string]int{"scgi": peer.FreePort(t), "uwsgi": peer.FreePort(t), "fastcgi": peer.FreePort(t)}
	serveSections(t, fmt.Sprintf(`[app:main]
use = env

[server:scgi]
use = scgi
host = 127.0.0.1
port = %d

[server:uwsgi]
use = uwsgi
host = 127.0.0.1
port = %d

[server:fastcgi]
use = fastcgi
host = 127.0.0.1
port = %d
`, ports["scgi"], ports["uwsgi"], ports["fastcgi"]), ports)
	return ports
}

// TestApacheGateways: Apache's mod_proxy_scgi, mod_proxy_uwsgi and
// mod_proxy_fcgi in front of gopaste's servers, with the snippet the docs
// quote.
func TestApacheGateways(t *testing.T) {
	peer.Require(t, "apache2")
	ports := gatewayServers(t)
	conf := fmt.Sprintf("Define SCGI_PORT %d\nDefine UWSGI_PORT %d\nDefine FCGI_PORT %d\n",
		ports["scgi"], ports["uwsgi"], ports["fastcgi"]) + snippet(t, "apache-gateways.conf")
	a := peer.StartApache(t, conf)

	// What each module sends (see docs/protocols.md): mod_proxy_scgi puts
	// the whole path in SCRIPT_NAME without PATH_INFO, and mod_proxy_fcgi
	// sends no usable split either, so the app sees the full path with an
	// empty SCRIPT_NAME; mod_proxy_uwsgi splits at the ProxyPass prefix.
	for _, tc := range []struct{ mount, script, prefix string }{
		{"/scgi", "", "/scgi"},
		{"/uwsgi", "/uwsgi", ""},
		{"/fcgi", "", "/fcgi"},
	} {
		t.Run(strings.TrimPrefix(tc.mount, "/"), func(t *testing.T) {
			got := fetch(t, "GET", a.URL(tc.mount+"/a/b%20c?x=1&y=%2F"), "")
			check(t, "GET", got, map[string]string{
				"REQUEST_METHOD": "GET",
				"SCRIPT_NAME":    tc.script,
				"PATH_INFO":      tc.prefix + "/a/b c",
				"QUERY_STRING":   "x=1&y=%2F",
				"REQUEST_URI":    tc.mount + "/a/b%20c?x=1&y=%2F",
				"CONTENT_LENGTH": "",
				"HTTP_X_INTEROP": "yes",
				"REMOTE_ADDR":    "127.0.0.1",
				"SERVER_NAME":    "127.0.0.1",
				"SERVER_PORT":    fmt.Sprint(a.Port),
				"body":           "",
			})
			got = fetch(t, "POST", a.URL(tc.mount+"/form"), "name=gopher&n=1")
			check(t, "POST", got, map[string]string{
				"REQUEST_METHOD": "POST",
				"SCRIPT_NAME":    tc.script,
				"PATH_INFO":      tc.prefix + "/form",
				"CONTENT_TYPE":   "application/x-www-form-urlencoded",
				"CONTENT_LENGTH": "15",
				"body":           "name=gopher&n=1",
			})
		})
	}
	if t.Failed() {
		t.Log(a.ErrorLog())
	}
}

// TestApacheCGI: Apache mod_cgid runs gopaste as a CGI program, once as
// "gopaste cgi2scgi" forwarding to gopaste's SCGI server, once as
// "gopaste serve" with a cgi server section; both serve the env app.
func TestApacheCGI(t *testing.T) {
	peer.Require(t, "apache2")
	bin := gopaste(t)
	ports := map[string]int{"scgi": peer.FreePort(t)}
	serveSections(t, fmt.Sprintf("[app:main]\nuse = env\n\n[server:scgi]\nuse = scgi\nport = %d\n", ports["scgi"]), ports)

	cgiBin, run := publicDir(t), publicDir(t)
	writeFile(t, filepath.Join(cgiBin, "cgi2scgi.sh"), "#!/bin/sh\nexec "+bin+" cgi2scgi\n", 0o755)
	site := filepath.Join(cgiBin, "site.ini")
	writeFile(t, site, siteINI, 0o644)
	writeFile(t, filepath.Join(cgiBin, "served.sh"), "#!/bin/sh\nexec "+bin+" serve "+site+" --server cgi\n", 0o755)
	if os.Geteuid() == 0 {
		exec.Command("chown", "www-data", run).Run() // cgid's socket directory
	}
	conf := fmt.Sprintf("Define SCGI_PORT %d\nDefine CGI_BIN %s\nDefine CGI_RUN %s\n", ports["scgi"], cgiBin, run) +
		snippet(t, "apache-cgi.conf")
	a := peer.StartApache(t, conf)

	for _, mount := range []string{"/cgi2scgi", "/served"} {
		t.Run(strings.TrimPrefix(mount, "/"), func(t *testing.T) {
			got := fetch(t, "GET", a.URL(mount+"/a/b?x=1"), "")
			check(t, "GET", got, map[string]string{
				"REQUEST_METHOD": "GET",
				"SCRIPT_NAME":    mount,
				"PATH_INFO":      "/a/b",
				"QUERY_STRING":   "x=1",
				"REQUEST_URI":    mount + "/a/b?x=1",
				"HTTP_X_INTEROP": "yes",
				"REMOTE_ADDR":    "127.0.0.1",
				"SERVER_PORT":    fmt.Sprint(a.Port),
			})
			got = fetch(t, "POST", a.URL(mount+"/form"), "name=gopher&n=1")
			check(t, "POST", got, map[string]string{
				"REQUEST_METHOD": "POST",
				"SCRIPT_NAME":    mount,
				"PATH_INFO":      "/form",
				"CONTENT_LENGTH": "15",
				"body":           "name=gopher&n=1",
			})
		})
	}
	if t.Failed() {
		t.Log(a.ErrorLog())
	}
}

// siteINI is the config "gopaste serve" runs as a CGI program.
const siteINI = `[app:main]
use = env

[server:cgi]
use = cgi
`
