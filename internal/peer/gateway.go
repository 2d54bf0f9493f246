package peer

// This file holds the checks every gateway protocol server runs behind a
// real web server (nginx uwsgi_pass, fastcgi_pass...): one handler, one
// suite, so that each protocol is held to the same behaviour.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"
)

// Echo is what GatewayHandler answers on every path but /stream.
type Echo struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   string              `json:"query"`
	Host    string              `json:"host"`
	BodyLen int64               `json:"body_len"`
	BodySHA string              `json:"body_sha"`
	Header  map[string][]string `json:"header"`
}

// GatewayHandler echoes requests as JSON; on /stream it writes "first\n",
// flushes, waits for Release (at most 30s) and writes "last\n", with
// X-Accel-Buffering: no so that nginx passes the chunks on at once.
type GatewayHandler struct {
	Release chan struct{}
}

// NewGatewayHandler returns a GatewayHandler ready for one /stream request.
func NewGatewayHandler() *GatewayHandler {
	return &GatewayHandler{Release: make(chan struct{})}
}

func (g *GatewayHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/stream" {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Accel-Buffering", "no")
		io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-g.Release:
		case <-time.After(30 * time.Second):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "last\n")
		return
	}
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	if err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
		return
	}
	e := Echo{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host,
		BodyLen: n, BodySHA: hex.EncodeToString(h.Sum(nil)), Header: r.Header}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(e)
}

// CheckGateway runs the gateway suite against base (e.g. nginx's
// http://127.0.0.1:PORT) in front of a server running g: a GET with a
// query, a 10 MB POST, a chunked upload, a streamed response whose first
// chunk arrives before the last is written, 1000 keep-alive requests on
// one client connection, and odd header values.
func CheckGateway(t *testing.T, base string, g *GatewayHandler) {
	t.Run("get with query", func(t *testing.T) {
		e := getEcho(t, http.DefaultClient, "GET", base+"/echo/a%20b/c?x=1&y=%C3%A9&z", nil, -1, nil)
		if e.Method != "GET" || e.Path != "/echo/a b/c" || e.Query != "x=1&y=%C3%A9&z" || e.BodyLen != 0 {
			t.Errorf("echo = %+v", e)
		}
		if !strings.HasPrefix(e.Host, "127.0.0.1") && e.Host != "localhost" {
			t.Errorf("host = %q", e.Host)
		}
	})
	t.Run("post 10MB", func(t *testing.T) {
		body := make([]byte, 10<<20)
		rand.Read(body)
		sum := sha256.Sum256(body)
		e := getEcho(t, http.DefaultClient, "POST", base+"/upload", bytes.NewReader(body), int64(len(body)),
			http.Header{"Content-Type": {"application/octet-stream"}})
		if e.BodyLen != int64(len(body)) || e.BodySHA != hex.EncodeToString(sum[:]) {
			t.Errorf("got %d bytes sha %s, want %d %x", e.BodyLen, e.BodySHA, len(body), sum)
		}
		if got := e.Header["Content-Type"]; len(got) != 1 || got[0] != "application/octet-stream" {
			t.Errorf("Content-Type = %q", got)
		}
	})
	t.Run("chunked upload", func(t *testing.T) {
		body := bytes.Repeat([]byte("chunk of an upload\n"), 50000)
		sum := sha256.Sum256(body)
		// No length: the client sends Transfer-Encoding: chunked.
		e := getEcho(t, http.DefaultClient, "PUT", base+"/chunked", io.MultiReader(bytes.NewReader(body)), -1, nil)
		if e.BodyLen != int64(len(body)) || e.BodySHA != hex.EncodeToString(sum[:]) {
			t.Errorf("got %d bytes sha %s, want %d %x", e.BodyLen, e.BodySHA, len(body), sum)
		}
	})
	t.Run("streamed response", func(t *testing.T) {
		released := false
		defer func() {
			if !released {
				close(g.Release)
			}
		}()
		resp, err := http.Get(base + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		first := make(chan string, 1)
		go func() {
			buf := make([]byte, 6)
			n, _ := io.ReadFull(resp.Body, buf)
			first <- string(buf[:n])
		}()
		select {
		case got := <-first:
			if got != "first\n" {
				t.Fatalf("first chunk %q", got)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("the first chunk did not arrive before the last was written")
		}
		close(g.Release)
		released = true
		rest, err := io.ReadAll(resp.Body)
		if err != nil || string(rest) != "last\n" {
			t.Errorf("rest %q, %v", rest, err)
		}
	})
	t.Run("1000 keep-alive requests", func(t *testing.T) {
		tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		fresh := 0
		for i := 0; i < 1000; i++ {
			req, _ := http.NewRequest("GET", base+"/ka?i="+itoa(i), nil)
			req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
				GotConn: func(ci httptrace.GotConnInfo) {
					if !ci.Reused {
						fresh++
					}
				},
			}))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			var e Echo
			err = json.NewDecoder(resp.Body).Decode(&e)
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || e.Query != "i="+itoa(i) {
				t.Fatalf("request %d: %d %+v %v", i, resp.StatusCode, e, err)
			}
		}
		if fresh != 1 {
			t.Errorf("1000 requests used %d client connections, want 1", fresh)
		}
	})
	t.Run("odd header values", func(t *testing.T) {
		odd := map[string]string{
			"X-Spaces":  "a  b   c",
			"X-Quotes":  `say "hi" and 'bye'`,
			"X-Utf8":    "ünïcödé ☃",
			"X-Punct":   "a,b;c=d; e=\"f,g\"; (h) <i> [j] {k} \\ | ~ `",
			"X-Long":    strings.Repeat("0123456789", 300),
			"X-Percent": "%00%0d%0a%zz",
			"X-Empty":   "",
		}
		h := http.Header{}
		for k, v := range odd {
			h.Set(k, v)
		}
		e := getEcho(t, http.DefaultClient, "GET", base+"/headers", nil, -1, h)
		for k, v := range odd {
			got := e.Header[k]
			if v == "" {
				if len(got) > 1 || len(got) == 1 && got[0] != "" {
					t.Errorf("%s = %q, want empty", k, got)
				}
				continue
			}
			if len(got) != 1 || got[0] != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
	})
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return string(b[n:])
}

func getEcho(t *testing.T, c *http.Client, method, url string, body io.Reader, n int64, h http.Header) Echo {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if n >= 0 {
		req.ContentLength = n
	} else if body != nil {
		req.ContentLength = -1
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	var e Echo
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s %s: %v in %q", method, url, err, b)
	}
	return e
}
