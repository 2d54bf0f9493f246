package pgstore_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

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
	db, err := pgstore.OpenDB(dsn())
	if err == nil {
		err = db.PingContext(ctx)
		db.Close()
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
		s.DB().ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table+", "+table+"_locks")
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
	s.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+storetest.Namespace(t)).Scan(&n)
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

// TestOpenDB: the DSN's pool options are read (pgxpool's names), an
// unknown one is refused, libpq's defaults hold (sslmode=prefer works
// against a server without TLS), and a run-time parameter reaches the
// server.
func TestOpenDB(t *testing.T) {
	requirePG(t)
	for dsn, want := range map[string]string{
		"postgres://h/db?pool_min_conns=2":   `unknown pool option "pool_min_conns"`,
		"postgres://h/db?pool_max_conns=0":   "pool_max_conns",
		"host=h pool_max_conn_lifetime=soon": "pool_max_conn_lifetime",
		"postgres://h/db?sslmode=sometimes":  "sslmode",
		// No password in the error, whatever is wrong.
		"postgres://u:secret@h/%zz":                 "invalid URL escape",
		"postgres://u:secret@h:99999999/db":         "port",
		"host=h password=secret sslmode=sometimes":  "sslmode",
		"postgres://u:secret@h/db?pool_max_conns=x": "pool_max_conns",
	} {
		_, err := pgstore.OpenDB(dsn)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OpenDB(%q) = %v, want an error with %q", dsn, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("OpenDB(%q): the password is in the error: %v", dsn, err)
		}
	}
	sep := "?"
	if strings.Contains(dsn(), "?") {
		sep = "&"
	}
	db, err := pgstore.OpenDB(dsn() + sep + "pool_max_conns=3&pool_max_conn_idle_time=1m&application_name=gopaste-test")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.Stats().MaxOpenConnections; n != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", n)
	}
	var name string
	if err := db.QueryRowContext(t.Context(), "SHOW application_name").Scan(&name); err != nil || name != "gopaste-test" {
		t.Errorf("application_name = %q, %v", name, err)
	}
	// BYTEA and TIMESTAMPTZ parameters and results round-trip exactly.
	data := []byte{0, 1, 2, 0xff, '\\', 'x'}
	var got []byte
	var when time.Time
	at := time.Date(2026, 12, 6, 20, 0, 0, 123456000, time.UTC)
	if err := db.QueryRowContext(t.Context(), "SELECT $1::bytea, $2::timestamptz", data, at).Scan(&got, &when); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) || !when.Equal(at) {
		t.Errorf("round trip: %q %v, want %q %v", got, when, data, at)
	}
}
