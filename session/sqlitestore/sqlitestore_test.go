package sqlitestore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/sqlitestore"
	"github.com/gopaste/gopaste/session/storetest"
)

func open(t *testing.T, path string, o sqlitestore.Options) *sqlitestore.Store {
	t.Helper()
	if o.CleanupInterval == 0 {
		o.CleanupInterval = -1
	}
	s, err := sqlitestore.New(t.Context(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newStore(t *testing.T) session.Store {
	// A second call opens a second database handle (its own connections)
	// on the same file, as another process would.
	return open(t, filepath.Join(storetest.Dir(t), "s.db"), sqlitestore.Options{})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, newStore)
	storetest.RunLockExpiry(t, newStore)
}

func TestWALAndCleanup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, sqlitestore.Options{Table: "web_sessions"})
	var mode string
	if err := s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	ctx := t.Context()
	s.Commit(ctx, "old", []byte("x"), time.Now().Add(-time.Second))
	s.Commit(ctx, "live", []byte("x"), time.Now().Add(time.Hour))
	if err := s.DeleteExpired(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	var n int
	s.DB().QueryRow("SELECT count(*) FROM web_sessions").Scan(&n)
	if n != 1 {
		t.Errorf("rows after cleanup = %d, want 1", n)
	}
}

func TestBadTableName(t *testing.T) {
	if _, err := sqlitestore.New(t.Context(), filepath.Join(t.TempDir(), "s.db"), sqlitestore.Options{Table: "x; DROP TABLE y"}); err == nil {
		t.Error("a table name with SQL in it: no error")
	}
}

func TestTwoManagers(t *testing.T) { storetest.RunManagers(t, newStore) }
