package cgi2scgi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gopaste/gopaste/apps/env"
	"github.com/gopaste/gopaste/cgi"
	"github.com/gopaste/gopaste/cli"
	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/mount"
	"github.com/gopaste/gopaste/scgi"
)

const childVar = "GOPASTE_CGI2SCGI_CHILD"

// TestMain runs the test binary as "gopaste cgi2scgi" when childVar is
// set, so that the cgi app can run it as a CGI program.
func TestMain(m *testing.M) {
	if os.Getenv(childVar) != "" {
		os.Exit(cli.Main(&cli.Env{}, []string{"cgi2scgi"}))
	}
	os.Exit(m.Run())
}

// scgiEnv starts gopaste's SCGI server with the env app on a loopback
// port and returns its address.
func scgiEnv(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scgi.Server{Handler: &env.Handler{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return l.Addr().String()
}

func parse(t *testing.T, out []byte) (textproto.MIMEHeader, string) {
	t.Helper()
	tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(out)))
	h, err := tr.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("CGI output %q: %v", out, err)
	}
	b, _ := io.ReadAll(tr.R)
	return h, string(b)
}

func TestForwardToGopasteSCGI(t *testing.T) {
	addr := scgiEnv(t)
	var out bytes.Buffer
	err := Forward(context.Background(), Options{
		Addr: addr,
		Env: []string{
			"REQUEST_METHOD=POST", "SCRIPT_NAME=/cgi-bin/fwd", "PATH_INFO=/a/b",
			"QUERY_STRING=x=1", "REQUEST_URI=/cgi-bin/fwd/a/b?x=1", "CONTENT_LENGTH=5",
			"CONTENT_TYPE=text/plain", "REMOTE_ADDR=10.0.0.1", "REMOTE_PORT=999",
			"HTTP_HOST=example.org", "HTTP_PROXY=http://evil/", "SECRET=no",
		},
		Stdin:  strings.NewReader("hello, and bytes past CONTENT_LENGTH"),
		Stdout: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	h, body := parse(t, out.Bytes())
	if h.Get("Status") != "200 OK" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for k, v := range map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/cgi-bin/fwd", "PATH_INFO": "/a/b",
		"QUERY_STRING": "x=1", "body": "hello", "REMOTE_ADDR": "10.0.0.1", "SERVER_NAME": "example.org",
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"HTTP_PROXY", "SECRET"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s was forwarded", k)
		}
	}
}

// fakeSCGI answers the first connection with reply after reading the
// headers; later ones (the proxy's probe after an empty reply) are closed
// unanswered.
func fakeSCGI(t *testing.T, reply string) (string, <-chan []scgi.Var) {
	t.Helper()
	got := make(chan []scgi.Var, 1)
	var n atomic.Int32
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		if n.Add(1) > 1 {
			return
		}
		vars, _ := scgi.ReadHeaders(bufio.NewReader(c), 0)
		got <- vars
		io.WriteString(c, reply)
	})
	return b.Addr(), got
}

func TestHTTPStatusLineBecomesStatus(t *testing.T) {
	addr, vars := fakeSCGI(t, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnothing here")
	var out bytes.Buffer
	if err := Forward(context.Background(), Options{Addr: addr, Env: []string{"REQUEST_METHOD=GET"}, Stdin: strings.NewReader(""), Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	h, body := parse(t, out.Bytes())
	if h.Get("Status") != "404 Not Found" || body != "nothing here" {
		t.Errorf("%q", out.String())
	}
	v := <-vars
	if len(v) < 2 || v[0] != (scgi.Var{Name: "CONTENT_LENGTH", Value: "0"}) || v[1] != (scgi.Var{Name: "SCGI", Value: "1"}) {
		t.Errorf("headers sent: %v", v)
	}
}

func TestFailures(t *testing.T) {
	closed := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		a := l.Addr().String()
		l.Close()
		return a
	}()
	empty, _ := fakeSCGI(t, "")
	malformed, _ := fakeSCGI(t, "Status: abc\r\n\r\n")
	for _, tc := range []struct {
		name, addr, status string
		env                []string
		wantErr            bool
	}{
		{"refused", closed, "502 Bad Gateway", []string{"REQUEST_METHOD=GET"}, true},
		{"empty reply", empty, "502 Bad Gateway", []string{"REQUEST_METHOD=GET"}, true},
		{"malformed reply", malformed, "502 Bad Gateway", []string{"REQUEST_METHOD=GET"}, true},
		{"not an address", "nowhere", "502 Bad Gateway", []string{"REQUEST_METHOD=GET"}, true},
		// A request the environment does not describe is the web
		// server's fault: answered and logged, not a failure to forward.
		{"bad length", closed, "400 Bad Request", []string{"REQUEST_METHOD=GET", "CONTENT_LENGTH=-4"}, false},
	} {
		var out bytes.Buffer
		err := Forward(context.Background(), Options{Addr: tc.addr, Env: tc.env, Stdin: strings.NewReader(""), Stdout: &out,
			Logger: slog.New(slog.DiscardHandler)})
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, want an error: %v", tc.name, err, tc.wantErr)
		}
		if h, _ := parse(t, out.Bytes()); h.Get("Status") != tc.status {
			t.Errorf("%s: output %q, want Status %s", tc.name, out.String(), tc.status)
		}
	}
}

// TestBehindCGIApp: HTTP → cgi app → this binary as "gopaste cgi2scgi" →
// gopaste's SCGI server → env app.
func TestBehindCGIApp(t *testing.T) {
	t.Setenv(childVar, "1")
	t.Setenv("SCGI_ADDR", scgiEnv(t))
	h, err := cgi.New(cgi.Options{Script: os.Args[0], PassEnv: []string{childVar, "SCGI_ADDR"}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, mount.Shift(r, "/fwd"))
	}))
	defer srv.Close()
	res, err := http.Post(srv.URL+"/fwd/p/q?z=9", "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%d %v: %s", res.StatusCode, err, b)
	}
	for k, v := range map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/fwd", "PATH_INFO": "/p/q",
		"QUERY_STRING": "z=9", "body": "payload", "REMOTE_ADDR": "127.0.0.1",
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %q", k, got[k], v)
		}
	}
}

// TestNotAHop: the X-Forwarded-For, -Proto and -Host headers the web
// server sent go on as they came, and no X-Forwarded-For is added for
// this relay; the Proxy header (httpoxy) and a client's
// X-Forwarded-Prefix (SCRIPT_NAME says the prefix) never go on.
func TestNotAHop(t *testing.T) {
	addr, vars := fakeSCGI(t, "Status: 204\r\n\r\n")
	var out bytes.Buffer
	err := Forward(context.Background(), Options{Addr: addr, Env: []string{
		"REQUEST_METHOD=GET", "REMOTE_ADDR=10.0.0.9", "HTTP_X_FORWARDED_FOR=192.0.2.1",
		"HTTP_X_FORWARDED_PROTO=https", "HTTP_PROXY=http://evil/", "SERVER_SOFTWARE=Apache/2.4",
		"HTTP_X_FORWARDED_PREFIX=/evil",
	}, Stdin: strings.NewReader(""), Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range <-vars {
		got[v.Name] = v.Value
	}
	for k, want := range map[string]string{
		"HTTP_X_FORWARDED_FOR": "192.0.2.1", "HTTP_X_FORWARDED_PROTO": "https",
		"REMOTE_ADDR": "10.0.0.9", "SERVER_SOFTWARE": "Apache/2.4", "HTTP_PROXY": "",
		"HTTP_X_FORWARDED_PREFIX": "",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	if h, _ := parse(t, out.Bytes()); h.Get("Status") != "204 No Content" {
		t.Errorf("output %q", out.String())
	}
}

func TestNoAddress(t *testing.T) {
	t.Setenv("SCGI_ADDR", "")
	var out, errs bytes.Buffer
	code := cli.Main(&cli.Env{Stdout: &out, Stderr: &errs, Stdin: strings.NewReader("")}, []string{"cgi2scgi"})
	if code != 2 || !strings.HasPrefix(out.String(), "Status: 500") || !strings.Contains(errs.String(), "SCGI_ADDR") {
		t.Errorf("exit %d, out %q, err %q", code, out.String(), errs.String())
	}
}

// TestStreamsReply: the first part of the reply reaches stdout before the
// SCGI server has written the rest.
func TestStreamsReply(t *testing.T) {
	gate := make(chan struct{})
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		scgi.ReadHeaders(bufio.NewReader(c), 0)
		io.WriteString(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst\n")
		<-gate
		io.WriteString(c, "last\n")
	})
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		errc <- Forward(context.Background(), Options{Addr: b.Addr(), Env: []string{"REQUEST_METHOD=GET"}, Stdin: strings.NewReader(""), Stdout: pw})
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	var got []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("before the gate opened: %q, %v", got, err)
		}
		got = append(got, line)
		if line == "first\n" {
			break
		}
	}
	close(gate)
	rest, _ := io.ReadAll(br)
	if string(rest) != "last\n" {
		t.Errorf("rest %q", rest)
	}
	if err := <-errc; err != nil {
		t.Error(err)
	}
	if n := b.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}
