package pgstore_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/pgstore"
	"github.com/gopaste/gopaste/session/storetest"
)

// dsn is the database the tests use (PG_DSN overrides).
func dsn() string {
	if d := os.Getenv("PG_DSN"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:5432/test"
}

func requirePG(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn())
	if err == nil {
		err = c.Ping(ctx)
		c.Close(ctx)
	}
	storetest.Require(t, "postgres at "+dsn(), err)
}

// open opens a store on dsn and a table unique to t and this run; the
// first call's cleanup drops the tables.
func open(t *testing.T, dsn string) *pgstore.Store {
	table := storetest.Namespace(t)
	s, err := pgstore.Open(t.Context(), dsn, pgstore.Options{Table: table, CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Pool().Exec(context.Background(), "DROP TABLE IF EXISTS "+table+", "+table+"_locks")
		s.Close()
	})
	return s
}

func newStore(t *testing.T) session.Store { return open(t, dsn()) }

func TestConformance(t *testing.T) {
	requirePG(t)
	storetest.Run(t, newStore)
	storetest.RunLockExpiry(t, newStore)
	storetest.RunManagers(t, newStore)
}

func TestCleanupDeletesExpiredRows(t *testing.T) {
	requirePG(t)
	s := open(t, dsn())
	ctx := t.Context()
	s.Commit(ctx, "old", []byte("x"), time.Now().Add(-time.Minute))
	s.Commit(ctx, "live", []byte("x"), time.Now().Add(time.Hour))
	if err := s.DeleteExpired(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	s.Pool().QueryRow(ctx, "SELECT count(*) FROM "+storetest.Namespace(t)).Scan(&n)
	if n != 1 {
		t.Errorf("rows after cleanup = %d, want 1", n)
	}
}

func TestOutage(t *testing.T) {
	requirePG(t)
	p := storetest.NewProxy(t, "127.0.0.1:5432")
	s := open(t, strings.Replace(dsn(), "127.0.0.1:5432", p.Addr, 1))
	storetest.RunOutage(t, s, p)
}

func TestBadTableName(t *testing.T) {
	requirePG(t)
	if _, err := pgstore.Open(t.Context(), dsn(), pgstore.Options{Table: "x; DROP TABLE y"}); err == nil {
		t.Error("a table name with SQL in it: no error")
	}
}
