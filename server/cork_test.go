package server

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopaste/gopaste/apps/static"
	"github.com/gopaste/gopaste/registry"
)

// With tcp_nopush, the static app sends a large file corked (tcpcork,
// through headConn's Cork), whole, and uncorks the connection after it: the small replies
// that follow on the same connection are not held back (a cork left on
// would keep each one's last segment for 200 ms).
func TestLargeFileCorkCleared(t *testing.T) {
	want := make([]byte, 1<<20)
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
	defer files.Close()
	addr := serveHTTP(t, files, registry.ProtocolOptions{})
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
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
