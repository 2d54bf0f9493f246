package interop

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/internal/peer"
)

// buildApp builds app name of the config text, closed when the test ends.
func buildApp(t *testing.T, config, name string) http.Handler {
	t.Helper()
	path := filepath.Join(t.TempDir(), "front.ini")
	writeFile(t, path, config, 0o644)
	app, err := deploy.BuildApp(path, name, deploy.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app.Handler
}

// TestTranslationEndToEnd: HTTP → gopaste's scgi_proxy, uwsgi_proxy or
// fastcgi_proxy → gopaste's scgi, uwsgi or fastcgi server → the env app.
// The app must see the same variables whichever protocol carried them.
func TestTranslationEndToEnd(t *testing.T) {
	ports := gatewayServers(t)
	front := buildApp(t, fmt.Sprintf(`[composite:scgi]
use = urlmap
/app = scgi_backend

[composite:uwsgi]
use = urlmap
/app = uwsgi_backend

[composite:fastcgi]
use = urlmap
/app = fastcgi_backend

[app:scgi_backend]
use = scgi_proxy
backends = 127.0.0.1:%d

[app:uwsgi_backend]
use = uwsgi_proxy
backends = 127.0.0.1:%d

[app:fastcgi_backend]
use = fastcgi_proxy
backends = 127.0.0.1:%d
`, ports["scgi"], ports["uwsgi"], ports["fastcgi"]), "scgi")
	fronts := map[string]http.Handler{"scgi": front}
	for _, p := range []string{"uwsgi", "fastcgi"} {
		fronts[p] = buildApp(t, fmt.Sprintf("[composite:main]\nuse = urlmap\n/app = backend\n\n[app:backend]\nuse = %s_proxy\nbackends = 127.0.0.1:%d\n", p, ports[p]), "main")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fronts[r.Header.Get("X-Via")].ServeHTTP(w, r)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		method, path, body string
		want               map[string]string
	}{
		{"GET", "/app/a/b%20c?x=1&y=%2F", "", map[string]string{
			"SCRIPT_NAME": "/app", "PATH_INFO": "/a/b c", "QUERY_STRING": "x=1&y=%2F",
			"REQUEST_URI": "/app/a/b%20c?x=1&y=%2F", "REQUEST_METHOD": "GET", "body": "",
			"HTTP_X_INTEROP": "yes", "HTTP_X_FORWARDED_FOR": "127.0.0.1",
		}},
		{"POST", "/app/form", "name=gopher&n=1", map[string]string{
			"SCRIPT_NAME": "/app", "PATH_INFO": "/form", "CONTENT_LENGTH": "15",
			"CONTENT_TYPE": "application/x-www-form-urlencoded", "body": "name=gopher&n=1",
		}},
	} {
		seen := map[string]envReply{}
		for _, via := range []string{"scgi", "uwsgi", "fastcgi"} {
			got := fetchVia(t, tc.method, srv.URL+tc.path, tc.body, via)
			check(t, via+" "+tc.method, got, tc.want)
			seen[via] = got
		}
		// Every variable but the per-connection ones agrees.
		for k, v := range seen["scgi"] {
			switch k {
			case "REMOTE_PORT", "HTTP_X_VIA":
				continue
			}
			for _, via := range []string{"uwsgi", "fastcgi"} {
				if fmt.Sprint(seen[via][k]) != fmt.Sprint(v) {
					t.Errorf("%s %s: %s over %s = %v, over scgi %v", tc.method, tc.path, k, via, seen[via][k], v)
				}
			}
		}
		for _, via := range []string{"uwsgi", "fastcgi"} {
			if extra := missing(seen[via], seen["scgi"]); extra != "" {
				t.Errorf("%s %s: over %s only: %s", tc.method, tc.path, via, extra)
			}
		}
	}
}

func missing(a, b envReply) string {
	var ks []string
	for k := range a {
		if _, ok := b[k]; !ok {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

func fetchVia(t *testing.T, method, url, body, via string) envReply {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Body = nil
	}
	req.Header.Set("X-Interop", "yes")
	req.Header.Set("X-Via", via)
	return do(t, req)
}

// TestCGI2SCGIBehindCGIApp: HTTP → gopaste's cgi app → the gopaste binary
// as "cgi2scgi" → gopaste's SCGI server → the env app.
func TestCGI2SCGIBehindCGIApp(t *testing.T) {
	bin := gopaste(t)
	ports := map[string]int{"scgi": peer.FreePort(t)}
	serveSections(t, fmt.Sprintf("[app:main]\nuse = env\n\n[server:scgi]\nuse = scgi\nport = %d\n", ports["scgi"]), ports)
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "cgi2scgi.sh")
	writeFile(t, wrapper, "#!/bin/sh\nexec "+bin+" cgi2scgi\n", 0o755)
	t.Setenv("SCGI_ADDR", fmt.Sprintf("127.0.0.1:%d", ports["scgi"]))
	front := buildApp(t, fmt.Sprintf(`[composite:main]
use = urlmap
/fwd = fwd

[app:fwd]
use = cgi
script = %s
pass_env = SCGI_ADDR
timeout = 20
`, wrapper), "main")
	srv := httptest.NewServer(front)
	defer srv.Close()
	got := fetch(t, "GET", srv.URL+"/fwd/a/b?x=1", "")
	check(t, "GET", got, map[string]string{
		"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/fwd", "PATH_INFO": "/a/b",
		"QUERY_STRING": "x=1", "REQUEST_URI": "/fwd/a/b?x=1", "HTTP_X_INTEROP": "yes",
		"REMOTE_ADDR": "127.0.0.1",
	})
	got = fetch(t, "POST", srv.URL+"/fwd/form", "name=gopher&n=1")
	check(t, "POST", got, map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/fwd", "PATH_INFO": "/form",
		"CONTENT_LENGTH": "15", "body": "name=gopher&n=1",
	})
}
