package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopaste/gopaste/registry"
)

// A large file goes out whole (corked, through sendfile), and the
// connection is uncorked after it: the small replies that follow on the
// same connection are not held back (a cork left on would keep each
// one's last segment for 200 ms).
func TestLargeFileCorkCleared(t *testing.T) {
	want := make([]byte, 1<<20)
	rand.Read(want)
	file := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(file, want, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := newHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/big" {
			w.Write([]byte("ok"))
			return
		}
		f, err := os.Open(file)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, "big.bin", time.Time{}, f)
	}), registry.ProtocolOptions{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	defer s.Shutdown(context.Background())
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func(path string) []byte {
		t.Helper()
		res, err := c.Get("http://" + l.Addr().String() + path)
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
