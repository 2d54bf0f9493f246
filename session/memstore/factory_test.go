package memstore

import (
	"context"
	"testing"
	"time"
)

// TestReloadKeepsSessions: a reload builds the new tree's store before
// the old tree closes its own; both must be the same store, so sessions
// survive, and it closes only when the last tree lets go.
func TestReloadKeepsSessions(t *testing.T) {
	ctx := context.Background()
	old := shared.acquire("site.ini#filter:session", Options{CleanupInterval: -1})
	if err := old.Commit(ctx, "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	next := shared.acquire("site.ini#filter:session", Options{CleanupInterval: -1})
	old.Close()
	old.Close()
	data, found, err := next.Find(ctx, "k")
	if err != nil || !found || string(data) != "v" {
		t.Fatalf("after reload Find = %q, %v, %v", data, found, err)
	}
	other := shared.acquire("other.ini#filter:session", Options{CleanupInterval: -1})
	if _, found, _ := other.Find(ctx, "k"); found {
		t.Error("two sections share one store")
	}
	other.Close()
	next.Close()
	if len(shared.m) != 0 {
		t.Errorf("stores left open: %d", len(shared.m))
	}
}
