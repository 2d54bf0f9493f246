// Package pgstore keeps sessions in PostgreSQL through database/sql and
// github.com/lib/pq, for sessions shared by several machines.
//
// The store creates its tables if they are missing:
//
//	CREATE TABLE sessions (id TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)
//	CREATE TABLE sessions_locks (id TEXT PRIMARY KEY, owner TEXT NOT NULL, until TIMESTAMPTZ NOT NULL)
//
// id is the session's store key (a hash of the token) and data its stored
// record (JSON). The table name is configurable; the lock table is its
// name plus "_locks". A cleanup loop deletes expired rows.
//
// Exclusive locks are lease rows in the lock table: taken by an insert
// that succeeds only when no live lease exists, released by deleting the
// row, and lapsing (by the server's clock) after the ttl when their
// holder died. Unlike a session-level advisory lock, a lease holds no
// connection while the request runs, so the pool cannot be exhausted by
// waiting lock holders. The compare-and-swap of optimistic locking is
// one conditional statement.
package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/gopaste/gopaste/session"
)

// Options configure a [Store].
type Options struct {
	// Table is the sessions table; default "sessions".
	Table string
	// CleanupInterval is how often expired rows are deleted; zero means 5
	// minutes, negative means never.
	CleanupInterval time.Duration
	// Logger reports cleanup trouble; nil means slog.Default().
	Logger *slog.Logger
}

// Store is a PostgreSQL session store. It is safe for concurrent use.
// Close stops the cleanup loop and closes the pool.
type Store struct {
	db  *sql.DB
	log *slog.Logger
	o   Options
	q   queries

	stopSweep func() // the cleanup loop's
}

// queries are the store's statements, prepared once: a statement then
// costs the server no parse or plan, and one round trip (Bind, Execute).
type queries struct {
	find, commit, del, swapOld, swapNew, lock, unlock, cleanup, cleanupLocks *sql.Stmt
}

// tableName is compiled on first use: its {0,50} compiles to hundreds of
// allocations, which every gopaste process would otherwise pay at start.
var tableName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z_][a-z0-9_]{0,50}$`)
})

// Open connects to dsn (see [OpenDB]) and creates the tables if needed.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	db, err := OpenDB(dsn)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, db, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// poolOptions are the DSN parameters OpenDB takes for the pool (pgxpool's
// names, so that DSNs written for it carry over).
var poolOptions = map[string]func(db *sql.DB, v string) error{
	"pool_max_conns": func(db *sql.DB, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("not a positive number")
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		return nil
	},
	"pool_max_conn_lifetime": func(db *sql.DB, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("not a duration")
		}
		db.SetConnMaxLifetime(d)
		return nil
	},
	"pool_max_conn_idle_time": func(db *sql.DB, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("not a duration")
		}
		db.SetConnMaxIdleTime(d)
		return nil
	},
}

// OpenDB returns a pool of connections to dsn: postgres://user@host:port/db?...
// or key=value pairs, with libpq's parameters and environment variables
// (PGHOST, PGPASSWORD, ...). Unlike lib/pq alone, sslmode defaults to
// prefer (libpq's default) and connect_timeout to 5 seconds. The pool
// keeps up to pool_max_conns connections (default 4, or one per CPU
// when more), closing them after pool_max_conn_lifetime (default 1h) or
// pool_max_conn_idle_time idle (default 30m). Statements with arguments
// take one round trip (lib/pq's binary_parameters).
func OpenDB(dsn string) (*sql.DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		// A url.Error repeats the DSN, password included: keep its reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if cfg.SSLMode == "" {
		cfg.SSLMode = pq.SSLModePrefer
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	cfg.BinaryParameters = true
	pool := map[string]string{} // the pool_* parameters, taken out of the DSN
	for k, v := range cfg.Runtime {
		if !strings.HasPrefix(k, "pool_") {
			continue // a server run-time parameter (search_path, ...)
		}
		if _, ok := poolOptions[k]; !ok {
			return nil, fmt.Errorf("pgstore: unknown pool option %q (gopaste reads %s)",
				k, strings.Join(slices.Sorted(maps.Keys(poolOptions)), ", "))
		}
		pool[k] = v
		delete(cfg.Runtime, k)
	}
	conn, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	db := sql.OpenDB(conn)
	n := max(4, runtime.NumCPU())
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(time.Hour)
	db.SetConnMaxIdleTime(30 * time.Minute)
	for k, v := range pool {
		if err := poolOptions[k](db, v); err != nil {
			db.Close()
			return nil, fmt.Errorf("pgstore: %s=%q: %v", k, v, err)
		}
	}
	return db, nil
}

// New returns a store on db, which it owns from then on, creating the
// tables if needed.
func New(ctx context.Context, db *sql.DB, o Options) (*Store, error) {
	s, err := prepare(db, o)
	if err != nil {
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// prepare returns a store on db that is not started: it has checked the
// options and touched no database. The session filter's factory starts
// it once the whole config has built (registry.Config.OnStart), so that
// a config with an error elsewhere creates no table.
func prepare(db *sql.DB, o Options) (*Store, error) {
	if o.Table == "" {
		o.Table = "sessions"
	}
	if !tableName().MatchString(o.Table) {
		return nil, fmt.Errorf("pgstore: invalid table name %q (lower case letters, digits, _)", o.Table)
	}
	s := &Store{db: db, log: o.Logger, o: o}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// start creates the tables if needed, prepares the statements and starts
// the cleanup loop.
func (s *Store) start(ctx context.Context) error {
	t, l := s.o.Table, s.o.Table+"_locks"
	if err := create(ctx, s.db, t, l); err != nil {
		return err
	}
	db := s.db
	for _, q := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.q.find, `SELECT data FROM ` + t + ` WHERE id = $1 AND expiry > now()`},
		{&s.q.commit, `INSERT INTO ` + t + ` (id, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`},
		{&s.q.del, `DELETE FROM ` + t + ` WHERE id = $1`},
		{&s.q.swapOld, `UPDATE ` + t + ` SET data = $1, expiry = $2 WHERE id = $3 AND data = $4 AND expiry > now()`},
		{&s.q.swapNew, `INSERT INTO ` + t + ` (id, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry WHERE ` + t + `.expiry <= now()`},
		{&s.q.lock, `INSERT INTO ` + l + ` (id, owner, until) VALUES ($1, $2, now() + $3 * interval '1 millisecond') ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, until = excluded.until WHERE ` + l + `.until <= now()`},
		{&s.q.unlock, `DELETE FROM ` + l + ` WHERE id = $1 AND owner = $2`},
		{&s.q.cleanup, `DELETE FROM ` + t + ` WHERE expiry <= now()`},
		{&s.q.cleanupLocks, `DELETE FROM ` + l + ` WHERE until <= now()`},
	} {
		stmt, err := db.PrepareContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("pgstore: prepare: %w", err)
		}
		*q.stmt = stmt
	}
	s.stopSweep = session.Sweep(s.o.CleanupInterval, s.log, func(ctx context.Context, _ time.Time) error {
		return s.DeleteExpired(ctx)
	})
	return nil
}

// create makes the tables, under a transaction-scoped advisory lock so
// that processes starting together do not race CREATE TABLE.
func create(ctx context.Context, db *sql.DB, t, l string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op
	for _, stmt := range []string{
		`SELECT pg_advisory_xact_lock(hashtext('gopaste.pgstore.create'))`,
		`CREATE TABLE IF NOT EXISTS ` + t + ` (id TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS ` + t + `_expiry_idx ON ` + t + ` (expiry)`,
		`CREATE TABLE IF NOT EXISTS ` + l + ` (id TEXT PRIMARY KEY, owner TEXT NOT NULL, until TIMESTAMPTZ NOT NULL)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("pgstore: create table %s: %w", t, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("pgstore: create table %s: %w", t, err)
	}
	return nil
}

// DB returns the pool, for benchmarks and tools.
func (s *Store) DB() *sql.DB { return s.db }

// Close stops the cleanup loop and closes the pool.
func (s *Store) Close() error {
	if s.stopSweep != nil { // nil when never started
		s.stopSweep()
	}
	return s.db.Close()
}

// DeleteExpired deletes the expired sessions and lapsed locks.
func (s *Store) DeleteExpired(ctx context.Context) error {
	_, err := s.q.cleanup.ExecContext(ctx)
	if err == nil {
		_, err = s.q.cleanupLocks.ExecContext(ctx)
	}
	if err != nil {
		return fmt.Errorf("pgstore: cleanup: %w", err)
	}
	return nil
}

// rowsAffected is res.RowsAffected, or err.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Find implements session.Store.
func (s *Store) Find(ctx context.Context, key string) ([]byte, bool, error) {
	var data []byte
	err := s.q.find.QueryRowContext(ctx, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: find: %w", err)
	}
	return nonNil(data), true, nil
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if _, err := s.q.commit.ExecContext(ctx, key, nonNil(data), expiry); err != nil {
		return fmt.Errorf("pgstore: commit: %w", err)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.q.del.ExecContext(ctx, key); err != nil {
		return fmt.Errorf("pgstore: delete: %w", err)
	}
	return nil
}

// Swap implements session.Swapper with one conditional statement.
func (s *Store) Swap(ctx context.Context, key string, old, data []byte, expiry time.Time) (bool, error) {
	var res sql.Result
	var err error
	if old == nil {
		res, err = s.q.swapNew.ExecContext(ctx, key, nonNil(data), expiry)
	} else {
		res, err = s.q.swapOld.ExecContext(ctx, nonNil(data), expiry, key, old)
	}
	n, err := rowsAffected(res, err)
	if err != nil {
		return false, fmt.Errorf("pgstore: swap: %w", err)
	}
	return n == 1, nil
}

// Lock implements session.Locker with a lease row that lapses after ttl.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	owner := session.LockOwner()
	ttl = max(ttl, time.Millisecond) // the lease is timed in whole milliseconds
	err := session.WaitLock(ctx, func() (bool, error) {
		n, err := rowsAffected(s.q.lock.ExecContext(ctx, key, owner, ttl.Milliseconds()))
		return n == 1, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: lock: %w", err)
	}
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() {
			if _, e := s.q.unlock.ExecContext(ctx, key, owner); e != nil {
				err = fmt.Errorf("pgstore: unlock: %w", e)
			}
		})
		return err
	}, nil
}
