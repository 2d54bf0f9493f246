package fastcgi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/internal/peer"
)

// snippet reads an nginx snippet that docs/protocols.md shows and points
// it at addr.
func snippet(t *testing.T, name, addr string) string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "127.0.0.1:9000", addr)
}

func TestInteropNginxToServer(t *testing.T) {
	peer.Require(t, "nginx")
	g := peer.NewGatewayHandler()
	_, addr := startServer(t, g)
	n := peer.StartNginx(t, snippet(t, "nginx.conf", addr))
	peer.CheckGateway(t, n.URL(""), g)
	if t.Failed() {
		t.Log(n.ErrorLog())
	}
}

func TestInteropNginxKeepConnToServer(t *testing.T) {
	peer.Require(t, "nginx")
	g := peer.NewGatewayHandler()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countListener{Listener: raw}
	s := &Server{Handler: g, Logger: quiet()}
	go s.Serve(l)
	defer s.Close()
	addr := raw.Addr().String()
	n := peer.StartNginxHTTP(t, snippet(t, "nginx-keepalive-upstream.conf", addr), snippet(t, "nginx-keepalive.conf", addr))
	peer.CheckGateway(t, n.URL(""), g)
	if t.Failed() {
		t.Log(n.ErrorLog())
	}
	// 1000-odd requests over kept connections: nginx's keepalive pool
	// (8, one worker) bounds what it opened.
	if got := l.total.Load(); got > 16 {
		t.Errorf("nginx opened %d connections with fastcgi_keep_conn, want a few", got)
	}
}

// TestInteropCgiFcgiToServer runs Debian's cgi-fcgi (libfcgi) as the
// client: it sends its environment as PARAMS and its stdin as STDIN.
func TestInteropCgiFcgiToServer(t *testing.T) {
	bin := peer.Require(t, "cgi-fcgi")
	_, addr := startServer(t, http.HandlerFunc(echoHandler))
	cmd := exec.Command(bin, "-bind", "-connect", addr)
	cmd.Env = []string{"REQUEST_METHOD=POST", "REQUEST_URI=/cgi/path?k=v", "QUERY_STRING=k=v",
		"CONTENT_LENGTH=5", "CONTENT_TYPE=text/plain", "HTTP_HOST=example.org", "SERVER_PROTOCOL=HTTP/1.1"}
	cmd.Stdin = strings.NewReader("hello")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cgi-fcgi: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.HasPrefix(s, "Status: 200 OK\r\n") || !strings.HasSuffix(s, `POST /cgi/path?k=v host=example.org len=5 body="hello"`) {
		t.Errorf("cgi-fcgi output %q", s)
	}
}

type phpReply struct {
	Server map[string]any    `json:"server"`
	Get    map[string]string `json:"get"`
	Post   map[string]string `json:"post"`
	Input  string            `json:"input"`
}

func phpTransport(t *testing.T, addr string, maxConns int) *Transport {
	root, err := filepath.Abs("testdata/www")
	if err != nil {
		t.Fatal(err)
	}
	tr := &Transport{Addr: addr, MaxConns: maxConns, Logger: quiet(),
		Script: Script{DocumentRoot: root, Index: "info.php", SplitPath: []string{".php"}}}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestInteropTransportToPHPFPM(t *testing.T) {
	fpm := peer.StartPHPFPM(t, 2)
	tr := phpTransport(t, fpm.Addr, 2)
	var logs logbuf.Buffer
	tr.Logger = newTextLogger(&logs)

	call := func(method, target, ctype, body string) (int, phpReply) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, "http://example.com"+target, rd)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.RemoteAddr = "192.0.2.9:5555"
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var r phpReply
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("%s %s: %v in %q", method, target, err, b)
			}
		}
		return resp.StatusCode, r
	}

	code, r := call("GET", "/info.php/extra/path?a=1&b=two", "", "")
	if code != 200 || r.Get["a"] != "1" || r.Get["b"] != "two" {
		t.Fatalf("GET: %d %+v", code, r.Get)
	}
	for k, want := range map[string]string{
		"PATH_INFO": "/extra/path", "SCRIPT_NAME": "/info.php", "REQUEST_METHOD": "GET",
		"QUERY_STRING": "a=1&b=two", "REMOTE_ADDR": "192.0.2.9", "HTTP_HOST": "example.com",
		"REQUEST_URI": "/info.php/extra/path?a=1&b=two",
	} {
		if got, _ := r.Server[k].(string); got != want {
			t.Errorf("$_SERVER[%s] = %q, want %q", k, got, want)
		}
	}
	if got, _ := r.Server["SCRIPT_FILENAME"].(string); !strings.HasSuffix(got, "/testdata/www/info.php") {
		t.Errorf("SCRIPT_FILENAME = %q", got)
	}

	form := url.Values{"name": {"gö pher"}, "n": {"42"}}.Encode()
	code, r = call("POST", "/", "application/x-www-form-urlencoded", form)
	if code != 200 || r.Post["name"] != "gö pher" || r.Post["n"] != "42" {
		t.Errorf("POST form: %d %+v", code, r.Post)
	}

	raw := strings.Repeat(`{"k":"v"}`, 20000)
	code, r = call("PUT", "/info.php", "application/json", raw)
	if code != 200 || r.Input != raw {
		t.Errorf("php://input: %d, %d bytes, want %d", code, len(r.Input), len(raw))
	}

	// PHP's warnings arrive as STDERR records: logged, not in the body.
	code, r = call("GET", "/info.php?warn=1", "", "")
	if code != 200 || r.Get["warn"] != "1" {
		t.Errorf("warn: %d", code)
	}
	if s := logs.String(); !strings.Contains(s, "gopaste interop warning") || !strings.Contains(s, "level=WARN") {
		t.Errorf("stderr not logged: %q", s)
	}

	if code, _ := call("GET", "/missing.php", "", ""); code != 404 {
		t.Errorf("missing script: %d, want 404", code)
	}
}

// TestInteropPHPFPMPoolBound sends bursts of concurrent requests to a
// 2-worker PHP-FPM: with the pool bounded to its workers every request is
// served promptly (idle connections pinning workers show as multi-second
// stalls).
func TestInteropPHPFPMPoolBound(t *testing.T) {
	fpm := peer.StartPHPFPM(t, 2)
	tr := phpTransport(t, fpm.Addr, 2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slowest time.Duration
	var errs []error
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			req, _ := http.NewRequest("GET", "http://x/info.php?i="+strconv.Itoa(i), nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = errors.New(resp.Status)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			slowest = max(slowest, time.Since(start))
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first %v", len(errs), errs[0])
	}
	if slowest > 5*time.Second {
		t.Errorf("slowest of 40 requests took %v", slowest)
	}
	if open := tr.pool(tr.Addr).Open(); open > 2 {
		t.Errorf("%d connections open, want at most 2", open)
	}
}

func TestInteropTransportToUWSGIFastCGI(t *testing.T) {
	peer.Require(t, "uwsgi")
	app, err := filepath.Abs("testdata/app.py")
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(peer.FreePort(t)))
	p := peer.StartUWSGI(t, "--plugin", "python3", "--fastcgi-socket", addr, "--wsgi-file", app,
		"--master", "--processes", "2", "--die-on-term", "--disable-logging")
	p.WaitDial(t, "tcp", addr)
	tr := &Transport{Addr: addr, Logger: quiet()}
	defer tr.Close()
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("POST", "http://example.com/py/x?q="+strconv.Itoa(i), strings.NewReader("body!"))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]string
		err = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		if env["PATH_INFO"] != "/py/x" || env["QUERY_STRING"] != "q="+strconv.Itoa(i) || env["body"] != "body!" || env["REQUEST_METHOD"] != "POST" {
			t.Errorf("env = %v", env)
		}
	}
}

func TestInteropTransportToFcgiwrap(t *testing.T) {
	addr := peer.StartFcgiwrap(t, 2)
	root, err := filepath.Abs("testdata/cgi-bin")
	if err != nil {
		t.Fatal(err)
	}
	tr := &Transport{Addr: addr, Logger: quiet(), MaxConns: 2, NoKeepConn: true,
		Script: Script{DocumentRoot: root, SplitPath: []string{".sh"}}}
	defer tr.Close()
	req, _ := http.NewRequest("POST", "http://example.com/hello.sh/more?x=y", bytes.NewReader([]byte("posted")))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "method=POST query=x=y script=/hello.sh path_info=/more\nposted"
	if resp.StatusCode != 200 || string(b) != want || resp.Header.Get("X-Script") != "hello" {
		t.Errorf("got %d %q %v, want %q", resp.StatusCode, b, resp.Header, want)
	}
}

// TestDocsQuoteNginxSnippets checks that docs/protocols.md shows the nginx
// blocks this package's interop tests run, verbatim.
func TestDocsQuoteNginxSnippets(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocols.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nginx.conf", "nginx-keepalive-upstream.conf", "nginx-keepalive.conf"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), "```nginx\n"+string(b)+"```") {
			t.Errorf("docs/protocols.md does not quote fastcgi/testdata/%s verbatim", name)
		}
	}
}

// TestInteropNginxUnbufferedChunked: with fastcgi_request_buffering off
// nginx streams a chunked upload as STDIN records without a
// CONTENT_LENGTH; the handler gets the whole body as it comes.
func TestInteropNginxUnbufferedChunked(t *testing.T) {
	peer.Require(t, "nginx")
	g := peer.NewGatewayHandler()
	_, addr := startServer(t, g)
	n := peer.StartNginx(t, `location / {
    include /etc/nginx/fastcgi_params;
    fastcgi_pass `+addr+`;
    fastcgi_request_buffering off;
}`)
	body := bytes.Repeat([]byte("streamed upload\n"), 10000)
	req, _ := http.NewRequest("POST", n.URL("/up"), io.MultiReader(bytes.NewReader(body)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e peer.Echo
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v\n%s", resp.StatusCode, err, n.ErrorLog())
	}
	if e.BodyLen != int64(len(body)) {
		t.Errorf("handler got %d bytes, want %d", e.BodyLen, len(body))
	}
}
