package sqlitestore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/storetest"
)

func TestLazyOpensAtFirstUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "s.db")
	l, err := NewLazy(path, Options{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Opened() {
		t.Fatal("opened before use")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("database file created before use")
	}
	ctx := context.Background()
	if err := l.Commit(ctx, "k", []byte(`{"a":1}`), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !l.Opened() {
		t.Error("not opened after use")
	}
	data, found, err := l.Find(ctx, "k")
	if err != nil || !found || string(data) != `{"a":1}` {
		t.Errorf("Find = %q %v %v", data, found, err)
	}
}

func TestLazyRefusesUnwritableDirectory(t *testing.T) {
	if os.Getuid() == 0 {
		// root writes anywhere; a path under a regular file cannot be a
		// directory for anyone.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o600)
		if _, err := NewLazy(filepath.Join(f, "s.db"), Options{}); err == nil {
			t.Error("a directory under a regular file was accepted")
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if _, err := NewLazy(filepath.Join(dir, "s.db"), Options{}); err == nil {
		t.Error("an unwritable directory was accepted")
	}
}

// TestLazyConformance runs the store suite through the lazy wrapper.
func TestLazyConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) session.Store {
		// A second call is a second handle on the same file.
		l, err := NewLazy(filepath.Join(storetest.Dir(t), "s.db"), Options{CleanupInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	})
}
