package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterServer("console", consoleFactory,
		"runs one request through the app in-process and prints the raw response")
}

// Console is the console server: it runs one request through a handler
// in-process and writes the raw HTTP/1.1 response to Out, as "gopaste
// request" does.
type Console struct {
	Method string      // default GET, or POST when Body is set
	URL    string      // path and query, or an absolute URL; default "/"
	Header http.Header // request headers
	Body   []byte
	// Out receives the response; nil means os.Stdout. The console
	// factory sets the section's registry.Config.Stdout ("gopaste serve"
	// passes its standard output).
	Out io.Writer
}

// Do runs the request and returns the status code.
func (c *Console) Do(h http.Handler) (int, error) {
	method := c.Method
	if method == "" {
		method = http.MethodGet
		if c.Body != nil {
			method = http.MethodPost
		}
	}
	target := c.URL
	if target == "" {
		target = "/"
	}
	var body io.Reader = http.NoBody
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := newConsoleRequest(method, target, body)
	if err != nil {
		return 0, err
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.Body != nil {
		req.ContentLength = int64(len(c.Body))
		if req.Header.Get("Content-Type") == "" && method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	bw := bufio.NewWriter(out)
	fmt.Fprintf(bw, "HTTP/1.1 %03d %s\r\n", res.StatusCode, http.StatusText(res.StatusCode))
	if res.Header.Get("Content-Length") == "" && rec.Body != nil && res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusNotModified {
		res.Header.Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	}
	res.Header.Write(bw)
	bw.WriteString("\r\n")
	if rec.Body != nil && method != http.MethodHead {
		bw.Write(rec.Body.Bytes())
	}
	return res.StatusCode, bw.Flush()
}

// newConsoleRequest builds a server-side request as net/http would hand it
// to a handler: Host set, RequestURI set, RemoteAddr a loopback address.
func newConsoleRequest(method, target string, body io.Reader) (*http.Request, error) {
	if !strings.HasPrefix(target, "/") && !strings.Contains(target, "://") {
		target = "/" + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if req.URL.Host == "" {
		req.Host = "localhost"
	} else {
		req.Host = req.URL.Host
	}
	req.RequestURI = req.URL.RequestURI()
	req.URL.Scheme, req.URL.Host = "", ""
	req.RemoteAddr = "127.0.0.1:0"
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	return req, nil
}

// Run runs the request once and returns; ctx is not waited on.
func (c *Console) Run(ctx context.Context, h http.Handler) error {
	_, err := c.Do(h)
	return err
}

func consoleFactory(c *registry.Config) (registry.Server, error) {
	con := &Console{
		Method: c.String("method", ""),
		URL:    c.String("url", "/"),
		Out:    c.Stdout,
	}
	if v, ok := c.Lookup("data"); ok {
		con.Body = []byte(v)
	}
	for _, line := range strings.Split(c.String("headers", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			c.Errorf("headers", "%q is not Name: value", line)
			continue
		}
		if con.Header == nil {
			con.Header = http.Header{}
		}
		con.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return con, c.Err()
}
