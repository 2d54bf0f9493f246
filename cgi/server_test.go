package cgi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/apps/env"
	"github.com/gopaste/gopaste/internal/gateway/gatewaytest"
	"github.com/gopaste/gopaste/mount"
)

// cgiOutput is a parsed CGI response.
type cgiOutput struct {
	status string
	header textproto.MIMEHeader
	body   string
}

func parseOutput(t *testing.T, out []byte) cgiOutput {
	t.Helper()
	tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(out)))
	h, err := tr.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("CGI output %q: %v", out, err)
	}
	body, _ := io.ReadAll(tr.R)
	st := h.Get("Status")
	h.Del("Status")
	return cgiOutput{st, h, string(body)}
}

func runServer(t *testing.T, environ []string, stdin string, h http.Handler) cgiOutput {
	t.Helper()
	var out bytes.Buffer
	s := &Server{Env: environ, Stdin: strings.NewReader(stdin), Stdout: &out}
	if err := s.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	return parseOutput(t, out.Bytes())
}

var apacheEnv = []string{
	"GATEWAY_INTERFACE=CGI/1.1",
	"SERVER_PROTOCOL=HTTP/1.1",
	"REQUEST_METHOD=GET",
	"SCRIPT_NAME=/cgi-bin/gopaste",
	"PATH_INFO=/x/y",
	"QUERY_STRING=q=1",
	"REQUEST_URI=/cgi-bin/gopaste/x/y?q=1",
	"SERVER_NAME=127.0.0.1",
	"SERVER_PORT=8080",
	"REMOTE_ADDR=127.0.0.2",
	"REMOTE_PORT=5555",
	"HTTP_HOST=127.0.0.1:8080",
	"HTTP_X_TEST=yes",
	"PATH=/usr/bin:/bin",
	"SECRET=not-a-header",
}

func TestServerRequest(t *testing.T) {
	var got *http.Request
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("X-Seen", r.Header.Get("X-Test"))
		io.WriteString(w, "<html><body>hi</body></html>")
	})
	o := runServer(t, apacheEnv, "", h)
	if o.status != "200 OK" || o.header.Get("X-Seen") != "yes" || o.body != "<html><body>hi</body></html>" {
		t.Errorf("output %+v", o)
	}
	if ct := o.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("sniffed Content-Type %q, want text/html", ct)
	}
	if got.Method != "GET" || got.URL.Path != "/x/y" || got.URL.RawQuery != "q=1" || got.Host != "127.0.0.1:8080" ||
		got.RemoteAddr != "127.0.0.2:5555" || mount.ScriptName(got.Context()) != "/cgi-bin/gopaste" {
		t.Errorf("request %s %s host %s remote %s script %q", got.Method, got.URL, got.Host, got.RemoteAddr, mount.ScriptName(got.Context()))
	}
}

func TestServerNoPathInfo(t *testing.T) {
	environ := []string{"REQUEST_METHOD=GET", "SCRIPT_NAME=/cgi-bin/app", "REQUEST_URI=/cgi-bin/app"}
	var path, script string
	runServer(t, environ, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, script = r.URL.Path, mount.ScriptName(r.Context())
	}))
	if path != "" || script != "/cgi-bin/app" {
		t.Errorf("path %q script %q, want \"\" and /cgi-bin/app", path, script)
	}
}

func TestServerPostAndStatus(t *testing.T) {
	environ := append([]string{}, apacheEnv...)
	environ[2] = "REQUEST_METHOD=POST"
	environ = append(environ, "CONTENT_LENGTH=5", "CONTENT_TYPE=text/plain")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
		w.Write(bytes.ToUpper(b))
	})
	o := runServer(t, environ, "hello and more bytes than CONTENT_LENGTH", h)
	if o.status != "201 Created" || o.body != "HELLO" {
		t.Errorf("%+v", o)
	}
}

func TestServerHeadAndNoContent(t *testing.T) {
	environ := append([]string{}, apacheEnv...)
	environ[2] = "REQUEST_METHOD=HEAD"
	o := runServer(t, environ, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "body of a HEAD")
	}))
	if o.status != "200 OK" || o.body != "" {
		t.Errorf("HEAD: %+v", o)
	}
	o = runServer(t, apacheEnv, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	if o.status != "204 No Content" || o.body != "" || o.header.Get("Content-Type") != "" {
		t.Errorf("204: %+v", o)
	}
}

func TestServerFlushSendsHeaders(t *testing.T) {
	var out bytes.Buffer
	var atFlush string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: 1\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		atFlush = out.String()
		io.WriteString(w, "data: 2\n\n")
	})
	s := &Server{Env: apacheEnv, Stdin: strings.NewReader(""), Stdout: &out}
	if err := s.Run(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(atFlush, "Status: 200 OK\r\n") || !strings.HasSuffix(atFlush, "data: 1\n\n") {
		t.Errorf("at flush the output was %q", atFlush)
	}
}

// TestConformance runs the suite every gateway server runs, the cases
// that apply to a program without a connection: panics, 1xx, HEAD,
// hop-by-hop headers, an unread body.
func TestConformance(t *testing.T) {
	gatewaytest.Run(t, func(t *testing.T, h http.Handler, log *slog.Logger) gatewaytest.Target {
		return gatewaytest.Target{Raw: func(t *testing.T, vars []string, body []byte) []byte {
			var env []string
			for i := 0; i+1 < len(vars); i += 2 {
				env = append(env, vars[i]+"="+vars[i+1])
			}
			var out bytes.Buffer
			s := &Server{Env: env, Stdin: bytes.NewReader(body), Stdout: &out, Logger: log}
			if err := s.Run(t.Context(), h); err != nil {
				t.Fatal(err)
			}
			return out.Bytes()
		}}
	})
}

func TestServerBadRequest(t *testing.T) {
	o := runServer(t, []string{"REQUEST_METHOD=GET", "HTTP_X_BAD=a\nb"}, "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler called for a bad request")
	}))
	if !strings.HasPrefix(o.status, "400") {
		t.Errorf("%+v", o)
	}
}

func TestServerNotCGI(t *testing.T) {
	s := &Server{Env: []string{"PATH=/bin"}, Stdin: strings.NewReader(""), Stdout: io.Discard}
	err := s.Run(context.Background(), http.NotFoundHandler())
	if !errors.Is(err, ErrNotCGI) {
		t.Errorf("Run = %v, want ErrNotCGI", err)
	}
}

// TestServerBehindHandler runs gopaste's CGI server (the test binary in
// "server" mode, serving the env app) under the cgi app: both directions
// of CGI against each other.
func TestServerBehindHandler(t *testing.T) {
	t.Setenv(childVar, "server")
	h, _ := newHandler(t, Options{Script: os.Args[0], PassEnv: []string{childVar}})
	r := httptest.NewRequest("POST", "/app/x/y?q=1", strings.NewReader("a=b"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body := do(t, mounted("/app", h), r)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v\n%s", res.StatusCode, res.Header, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/app", "PATH_INFO": "/x/y",
		"QUERY_STRING": "q=1", "CONTENT_LENGTH": "3", "body": "a=b",
		"CONTENT_TYPE": "application/x-www-form-urlencoded", "REMOTE_ADDR": "127.0.0.1",
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %q", k, got[k], v)
		}
	}
	_ = env.Vars // the child serves env.Handler
}
