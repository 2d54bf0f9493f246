package uwsgi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/internal/peer"
)

// nginxSnippet is the location block docs/protocols.md shows; the test
// points it at our server's port.
func nginxSnippet(t *testing.T, addr string) string {
	b, err := os.ReadFile("testdata/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "127.0.0.1:3031", addr)
}

func TestInteropNginxToServer(t *testing.T) {
	peer.Require(t, "nginx")
	g := peer.NewGatewayHandler()
	_, addr := startServer(t, g, func(s *Server) { s.Logger = slog.New(slog.DiscardHandler) })
	n := peer.StartNginx(t, nginxSnippet(t, addr))
	peer.CheckGateway(t, n.URL(""), g)
	if t.Failed() {
		t.Log(n.ErrorLog())
	}
}

// startUWSGI runs uWSGI's Python plugin on testdata/app.py with 2
// processes and returns its uwsgi socket address.
func startUWSGI(t *testing.T) string {
	peer.Require(t, "uwsgi")
	app, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(peer.FreePort(t)))
	p := peer.StartUWSGI(t, "--plugin", "python3", "--socket", addr, "--wsgi-file", app+"/testdata/app.py",
		"--master", "--processes", "2", "--die-on-term", "--disable-logging")
	p.WaitDial(t, "tcp", addr)
	return addr
}

// With KeepAlive or without: uWSGI ignores KeepAliveVar (it reaches the
// app's environ) and closes after each reply, which keeps nothing.
func TestInteropTransportToUWSGI(t *testing.T) {
	addr := startUWSGI(t)
	for _, keep := range []bool{false, true} {
		tr := &Transport{Addr: addr, KeepAlive: keep}
		interopTransport(t, tr)
		if keep {
			if n := tr.pools.For(addr, nil).Idle(); n != 0 {
				t.Errorf("KeepAlive: %d connections to uWSGI kept, want none", n)
			}
		}
		tr.Close()
	}
}

func interopTransport(t *testing.T, tr *Transport) {
	t.Helper()
	cases := []struct {
		method, url, body string
		want              map[string]string
	}{
		{"GET", "http://example.com/app/x?a=1&b=%20", "", map[string]string{
			"REQUEST_METHOD": "GET", "PATH_INFO": "/app/x", "QUERY_STRING": "a=1&b=%20", "HTTP_HOST": "example.com",
			"CONTENT_LENGTH": "0", "body": "", "SERVER_NAME": "example.com"}},
		{"POST", "http://example.com/form", "a=1&b=2", map[string]string{
			"REQUEST_METHOD": "POST", "PATH_INFO": "/form", "CONTENT_LENGTH": "7", "body": "a=1&b=2",
			"CONTENT_TYPE": "application/x-www-form-urlencoded"}},
	}
	for _, tc := range cases {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, _ := http.NewRequest(tc.method, tc.url, body)
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.RemoteAddr = "192.0.2.7:4444"
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]string
		err = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %v", tc.method, tc.url, resp.StatusCode, err)
		}
		for k, v := range tc.want {
			if env[k] != v {
				t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.url, k, env[k], v)
			}
		}
		if env["REMOTE_ADDR"] != "192.0.2.7" || env["HTTP_X_FORWARDED_FOR"] != "192.0.2.7" {
			t.Errorf("REMOTE_ADDR %q, X-Forwarded-For %q", env["REMOTE_ADDR"], env["HTTP_X_FORWARDED_FOR"])
		}
	}
}

// TestInteropUWSGIModifier pins what uWSGI does with a modifier1 its
// loaded plugins do not serve (9 is the CGI plugin's): it closes without
// a byte, which the Transport reports naming the modifier.
func TestInteropUWSGIModifier(t *testing.T) {
	addr := startUWSGI(t)
	req, _ := http.NewRequest("GET", "http://x/", nil)
	_, err := (&Transport{Addr: addr, Modifier1: 9}).RoundTrip(req)
	var e *EmptyReplyError
	if !errors.As(err, &e) || e.Modifier1 != 9 {
		t.Errorf("modifier1 9: err = %v, want EmptyReplyError", err)
	}
	req, _ = http.NewRequest("GET", "http://x/", nil)
	resp, err := (&Transport{Addr: addr, Modifier1: ModifierFixPath}).RoundTrip(req)
	if err != nil {
		t.Fatalf("modifier1 30: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("modifier1 30: status %d", resp.StatusCode)
	}
}

// TestDocsQuoteNginxSnippet checks that docs/protocols.md shows the nginx
// block this package's interop test runs, verbatim.
func TestDocsQuoteNginxSnippet(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocols.md")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```nginx\n"+string(b)+"```") {
		t.Error("docs/protocols.md does not quote uwsgi/testdata/nginx.conf verbatim")
	}
}
