package memstore

import (
	"context"
	"testing"
	"time"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
	"github.com/gopaste/gopaste/session"
)

// generation builds the store of section in file as deploy does for one
// generation sharing pool; close discards the generation.
func generation(t *testing.T, pool *registry.Pool, file, section string, o session.StoreOptions) (s *Store, close func()) {
	t.Helper()
	c, discard := registrytest.Generation(t, pool, registry.Filter, section, file, nil)
	st, err := newStore(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return st.(*Store), discard
}

func closed(s *Store) bool { return s.closed.Load() }

// TestReloadKeepsSessions: a reload builds the new tree's store before
// the old tree closes its own; both must be the same store, so sessions
// survive, and it closes only when the last tree lets go.
func TestReloadKeepsSessions(t *testing.T) {
	ctx := context.Background()
	pool := new(registry.Pool)
	o := session.StoreOptions{CleanupInterval: time.Hour}
	old, closeOld := generation(t, pool, "site.ini", "filter:session", o)
	if err := old.Commit(ctx, "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	next, closeNext := generation(t, pool, "site.ini", "filter:session", o)
	closeOld()
	if closed(next) {
		t.Fatal("the old generation closed the store the new one uses")
	}
	data, found, err := next.Find(ctx, "k")
	if err != nil || !found || string(data) != "v" {
		t.Fatalf("after reload Find = %q, %v, %v", data, found, err)
	}
	other, closeOther := generation(t, pool, "other.ini", "filter:session", o)
	if _, found, _ := other.Find(ctx, "k"); found {
		t.Error("two sections share one store")
	}
	closeOther()
	closeNext()
	if !closed(next) || !closed(other) {
		t.Error("the last generation using a store did not close it")
	}
	if pool.Len() != 0 {
		t.Errorf("stores left in the pool: %d", pool.Len())
	}
}

// TestReloadNewCleanupInterval: a changed cleanup_interval is a new
// store (the old one closes with its generation).
func TestReloadNewCleanupInterval(t *testing.T) {
	pool := new(registry.Pool)
	a, closeA := generation(t, pool, "site.ini", "filter:session", session.StoreOptions{CleanupInterval: time.Hour})
	b, closeB := generation(t, pool, "site.ini", "filter:session", session.StoreOptions{CleanupInterval: time.Minute})
	defer closeB()
	if a == b {
		t.Error("a store with another cleanup interval was reused")
	}
	closeA()
	if !closed(a) || closed(b) {
		t.Errorf("closed: old %v, new %v; want only the old one", closed(a), closed(b))
	}
}
