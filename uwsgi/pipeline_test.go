package uwsgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/gateway"
	"github.com/gopaste/gopaste/internal/wiretest"
)

// pathOf returns PATH_INFO of a packet's vars.
func pathOf(vars []Var) string {
	for _, v := range vars {
		if v.Name == "PATH_INFO" {
			return v.Value
		}
	}
	return ""
}

// keptReply is a kept reply whose body is text.
func keptReply(text string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: %d\r\n\r\n%s", len(text), text)
}

// pipeTransport is a keep-alive Transport with one connection and room
// for two requests behind the one running, closed when the test ends.
func pipeTransport(t *testing.T, addr string) *Transport {
	tr := &Transport{Addr: addr, KeepAlive: true, MaxIdleConns: 1, MaxConns: 1, Pipeline: 2}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// waitPipelined waits until tr's connection to addr has the request
// running counted ready for more (ready 1) and behind requests waiting
// behind it.
func waitPipelined(t *testing.T, tr *Transport, addr string, behind int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, b := tr.pools.For(addr, nil).Pipelined()
		if r == 1 && b == behind {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipelined: %d ready, %d behind; want 1 and %d", r, b, behind)
		}
		time.Sleep(time.Millisecond)
	}
}

// runningA returns a pipelining Transport to b whose kept connection
// runs GET /a, written whole (b closes gotA once it has read it), and
// the channel /a's reply will come on.
func runningA(t *testing.T, b *wiretest.Backend, gotA <-chan struct{}) (*Transport, <-chan string) {
	t.Helper()
	tr := pipeTransport(t, b.Addr())
	if _, err := get(t.Context(), tr, "/warm"); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	a := getAsync(t.Context(), tr, "/a")
	<-gotA
	waitPipelined(t, tr, b.Addr(), 0) // /a is on the wire
	return tr, a
}

// get sends GET path through tr with a bounded wait and returns the
// body, or the error.
func get(ctx context.Context, tr http.RoundTripper, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://x"+path, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}

// getAsync runs get on its own goroutine; the result arrives on the
// channel returned.
func getAsync(ctx context.Context, tr http.RoundTripper, path string) <-chan string {
	ch := make(chan string, 1)
	go func() {
		body, err := get(ctx, tr, path)
		if err != nil {
			body = "error: " + err.Error()
		}
		ch <- body
	}()
	return ch
}

// With every connection busy, GETs are written behind the request
// running: the backend here reads three requests before it answers the
// first, which only a pipelining client lets it do (a waiting one would
// hold the second until the first's reply came), then answers each in
// order, and every client gets its own reply.
func TestPipelineWritesBehindBusyRequest(t *testing.T) {
	gotA := make(chan struct{})
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, _, err := ReadPacket(br, 0); err != nil { // the warm-up, which makes the connection a kept one
			return
		}
		io.WriteString(c, keptReply("warm"))
		var paths []string
		for len(paths) < 3 {
			_, vars, err := ReadPacket(br, 0)
			if err != nil {
				t.Errorf("backend: after %v: %v", paths, err)
				return
			}
			if paths = append(paths, pathOf(vars)); len(paths) == 1 {
				close(gotA)
			}
		}
		for _, p := range paths {
			io.WriteString(c, keptReply("reply to "+p))
		}
		io.Copy(io.Discard, c)
	})
	tr, a := runningA(t, b, gotA)
	bc := getAsync(t.Context(), tr, "/b")
	waitPipelined(t, tr, b.Addr(), 1) // /b is behind /a before /c comes
	c := getAsync(t.Context(), tr, "/c")
	for name, ch := range map[string]<-chan string{"/a": a, "/b": bc, "/c": c} {
		if got := <-ch; got != "reply to "+name {
			t.Errorf("GET %s got %q", name, got)
		}
	}
	if n := b.Accepted(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// A POST is never written behind another request: the backend sees
// nothing more on the connection until it has answered the GET running
// there.
func TestPipelineNotForPost(t *testing.T) {
	gotA := make(chan struct{})
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		br := bufio.NewReader(c)
		ReadPacket(br, 0)
		io.WriteString(c, keptReply("warm"))
		if _, _, err := ReadPacket(br, 0); err != nil {
			return
		}
		close(gotA)
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := br.Peek(1); err == nil {
			t.Error("the POST reached the backend before the GET ahead of it was answered")
		}
		c.SetReadDeadline(time.Time{})
		io.WriteString(c, keptReply("reply to /a"))
		_, vars, err := ReadPacket(br, 0)
		if err != nil {
			t.Errorf("backend: %v", err)
			return
		}
		io.CopyN(io.Discard, br, 4) // the body
		io.WriteString(c, keptReply("reply to "+pathOf(vars)))
		io.Copy(io.Discard, c)
	})
	tr := pipeTransport(t, b.Addr())
	if _, err := get(t.Context(), tr, "/warm"); err != nil {
		t.Fatal(err)
	}
	a := getAsync(t.Context(), tr, "/a")
	<-gotA
	post := make(chan string, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", "http://x/p", strings.NewReader("body"))
		res, err := tr.RoundTrip(req)
		if err != nil {
			post <- err.Error()
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		post <- string(body)
	}()
	if got := <-a; got != "reply to /a" {
		t.Errorf("GET /a got %q", got)
	}
	if got := <-post; got != "reply to /p" {
		t.Errorf("POST /p got %q", got)
	}
}

// A connection that ends after the request running on it (here the
// backend answers "Connection: close", as a recycling worker does)
// leaves the requests behind it unanswered: they fail with
// ErrNotServed, which the caller may send again anywhere.
func TestPipelineNotServedWhenConnectionCloses(t *testing.T) {
	gotA, gotB := make(chan struct{}), make(chan struct{})
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		br := bufio.NewReader(c)
		ReadPacket(br, 0)
		io.WriteString(c, keptReply("warm"))
		ReadPacket(br, 0) // /a
		close(gotA)
		if _, _, err := ReadPacket(br, 0); err != nil {
			return
		}
		close(gotB)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 11\r\n\r\nreply to /a")
	})
	tr, a := runningA(t, b, gotA)
	_, errB := get(t.Context(), tr, "/b")
	select {
	case <-gotB:
	case <-time.After(5 * time.Second):
		t.Fatalf("GET /b never reached the backend behind /a (%v)", errB)
	}
	if got := <-a; got != "reply to /a" {
		t.Errorf("GET /a got %q", got)
	}
	if !errors.Is(errB, gateway.ErrNotServed) {
		t.Errorf("GET /b behind a closing reply: %v, want ErrNotServed", errB)
	}
}

// A request written behind another whose client leaves before its turn
// returns at once; the reply the backend still sends for it is not read
// as anyone else's: the connection is closed after the request ahead.
func TestPipelineAbandoned(t *testing.T) {
	gotA, gotB, bLeft := make(chan struct{}), make(chan struct{}), make(chan struct{})
	b := wiretest.Serve(t, "tcp", func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			_, vars, err := ReadPacket(br, 0)
			if err != nil {
				return
			}
			if pathOf(vars) == "/a" {
				close(gotA)
			}
			if pathOf(vars) == "/b" {
				close(gotB)
				<-bLeft // /b's client has gone
				io.WriteString(c, keptReply("reply to /a"))
			}
			if pathOf(vars) != "/a" {
				io.WriteString(c, keptReply("reply to "+pathOf(vars)))
			}
		}
	})
	tr, a := runningA(t, b, gotA)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-gotB
		cancel()
	}()
	_, errB := get(ctx, tr, "/b")
	close(bLeft)
	if !errors.Is(errB, context.Canceled) {
		t.Errorf("GET /b whose client left: %v, want context.Canceled", errB)
	}
	if got := <-a; got != "reply to /a" {
		t.Errorf("GET /a got %q", got)
	}
	if got, err := get(t.Context(), tr, "/d"); got != "reply to /d" {
		t.Errorf("GET /d after an abandoned request got %q, %v (another's reply?)", got, err)
	}
	if n := b.Accepted(); n != 2 {
		t.Errorf("%d connections, want 2 (the one with /b's reply closed)", n)
	}
}

// gopaste's uwsgi Server answers pipelined requests in order: many GETs
// and POSTs at once over one connection each get their own reply.
func TestPipelineWithServer(t *testing.T) {
	l, addr := keepServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, body)
	}))
	tr := pipeTransport(t, addr)
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			method, body, want := "GET", "", fmt.Sprintf("GET /%d ", i)
			if i%5 == 0 {
				method, body, want = "POST", "b", fmt.Sprintf("POST /%d b", i)
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, fmt.Sprintf("http://x/%d", i), strings.NewReader(body))
			if body == "" {
				req.Body = http.NoBody
			}
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Errorf("%s /%d: %v", method, i, err)
				return
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(got) != want {
				t.Errorf("%s /%d got %q, want %q", method, i, got, want)
			}
		})
	}
	wg.Wait()
	if n := l.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}
