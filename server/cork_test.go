package server

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopaste/gopaste/apps/static"
	"github.com/gopaste/gopaste/internal/tcpcork"
	"github.com/gopaste/gopaste/registry"
)

// serveLargeFile serves a directory holding "big", 1 MiB of random
// bytes, and "small" ("ok") with the static app and tcp_nopush on
// gopaste's http server; it returns big's bytes, the address and a
// client that keeps one connection.
func serveLargeFile(t *testing.T) (want []byte, addr string, c *http.Client) {
	t.Helper()
	want = make([]byte, 1<<20)
	rand.Read(want)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "small"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := static.Dir(dir, static.Options{NoPush: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	addr = serveHTTP(t, files, registry.ProtocolOptions{})
	tr := &http.Transport{MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	return want, addr, &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// With tcp_nopush, the static app sends a large file corked (tcpcork,
// through headConn's Cork), whole, and uncorks the connection after it: the small replies
// that follow on the same connection are not held back (a cork left on
// would keep each one's last segment for 200 ms).
func TestLargeFileCorkCleared(t *testing.T) {
	want, addr, c := serveLargeFile(t)
	get := func(path string) []byte {
		t.Helper()
		res, err := c.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for range 2 {
		if got := get("/big"); !bytes.Equal(got, want) {
			t.Fatalf("the 1 MiB file came back as %d bytes, not the same", len(got))
		}
		start := time.Now()
		for range 5 {
			if got := get("/small"); string(got) != "ok" {
				t.Fatalf("small reply %q", got)
			}
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("5 small replies after the file took %v: the connection stayed corked", d)
		}
	}
}

// A head sent with MSG_MORE and followed by no body (a handler that ends
// the response another way, or fails) is pushed when the response is
// uncorked, not held until the connection's next write.
func TestHeldHeadPushed(t *testing.T) {
	proceed := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uncork := tcpcork.During(r)
		w.Header().Set("Content-Length", "4")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush() // the head, with MSG_MORE
		uncork()
		select {
		case <-proceed:
		case <-r.Context().Done():
		}
		io.WriteString(w, "body")
	})
	addr := serveHTTP(t, h, registry.ProtocolOptions{})
	defer close(proceed)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	// A held segment leaves on its own after about 200 ms.
	c.SetReadDeadline(start.Add(100 * time.Millisecond))
	head, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "HTTP/1.1 200") {
		t.Fatalf("the head was held: %q, %v after %v", head, err, time.Since(start))
	}
}

// Armed, the next write leaves with MSG_MORE and the one after it (or a
// body through ReadFrom) ends the hold; Cork(false) disarms.
func TestMoreStates(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	tc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	hc := &headConn{Conn: tc}
	step := func(what string, do func(), want int32) {
		t.Helper()
		do()
		if got := hc.more.Load(); got != want {
			t.Errorf("after %s: state %d, want %d", what, got, want)
		}
	}
	write := func() { hc.Write([]byte("x")) }
	step("a write", write, moreOff)
	step("Cork(true)", func() { hc.Cork(true) }, moreArmed)
	step("the head", write, morePending)
	step("the body", write, moreOff)
	step("Cork(false)", func() { hc.Cork(false) }, moreOff)
	step("Cork(true)", func() { hc.Cork(true) }, moreArmed)
	step("the head", write, morePending)
	step("a body by ReadFrom", func() { hc.ReadFrom(strings.NewReader("body")) }, moreOff)
	step("Cork(true)", func() { hc.Cork(true) }, moreArmed)
	step("Cork(false)", func() { hc.Cork(false) }, moreOff)
	step("a write", write, moreOff)
}

// Ranges of a large file, one (ReadFrom after the head) and several
// (multipart, written in pieces after the head), arrive whole and
// promptly through the MSG_MORE head.
func TestLargeFileRangesNotHeld(t *testing.T) {
	want, addr, c := serveLargeFile(t)
	for _, tc := range []struct {
		rng      string
		contains [][]byte
		length   int
	}{
		{"bytes=100-199", [][]byte{want[100:200]}, 100},
		{"bytes=0-9,500000-500009", [][]byte{want[0:10], want[500000:500010]}, -1},
		{"bytes=65536-", [][]byte{want[65536:]}, len(want) - 65536},
	} {
		fastest := time.Hour // load may slow one request; a held segment slows all
		for range 3 {
			req, _ := http.NewRequest("GET", "http://"+addr+"/big", nil)
			req.Header.Set("Range", tc.rng)
			start := time.Now()
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			d := time.Since(start)
			if err != nil || res.StatusCode != http.StatusPartialContent {
				t.Fatalf("%s: %d, %v", tc.rng, res.StatusCode, err)
			}
			if tc.length >= 0 && len(body) != tc.length {
				t.Errorf("%s: %d bytes, want %d", tc.rng, len(body), tc.length)
			}
			for _, part := range tc.contains {
				if !bytes.Contains(body, part) {
					t.Errorf("%s: a range is missing from the body", tc.rng)
				}
			}
			fastest = min(fastest, d)
		}
		if fastest > 150*time.Millisecond {
			t.Errorf("%s took %v at the fastest: a segment was held", tc.rng, fastest)
		}
	}
}
