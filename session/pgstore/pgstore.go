// Package pgstore keeps sessions in PostgreSQL through
// github.com/jackc/pgx/v5, for sessions shared by several machines.
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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
	pool *pgxpool.Pool
	log  *slog.Logger
	q    queries

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type queries struct {
	find, commit, del, swapOld, swapNew, lock, unlock, cleanup, cleanupLocks string
}

// tableName is compiled on first use: its {0,50} compiles to hundreds of
// allocations, which every gopaste process would otherwise pay at start.
var tableName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z_][a-z0-9_]{0,50}$`)
})

// Open connects to dsn (postgres://user@host:port/db?..., or key=value
// pairs; pgxpool's pool_max_conns and friends apply) and creates the
// tables if needed.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s, err := New(ctx, pool, o)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// New returns a store on pool, which it owns from then on, creating the
// tables if needed.
func New(ctx context.Context, pool *pgxpool.Pool, o Options) (*Store, error) {
	if o.Table == "" {
		o.Table = "sessions"
	}
	if !tableName().MatchString(o.Table) {
		return nil, fmt.Errorf("pgstore: invalid table name %q (lower case letters, digits, _)", o.Table)
	}
	t, l := o.Table, o.Table+"_locks"
	if err := create(ctx, pool, t, l); err != nil {
		return nil, err
	}
	s := &Store{pool: pool, log: o.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.q = queries{
		find:         `SELECT data FROM ` + t + ` WHERE id = $1 AND expiry > now()`,
		commit:       `INSERT INTO ` + t + ` (id, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		del:          `DELETE FROM ` + t + ` WHERE id = $1`,
		swapOld:      `UPDATE ` + t + ` SET data = $1, expiry = $2 WHERE id = $3 AND data = $4 AND expiry > now()`,
		swapNew:      `INSERT INTO ` + t + ` (id, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry WHERE ` + t + `.expiry <= now()`,
		lock:         `INSERT INTO ` + l + ` (id, owner, until) VALUES ($1, $2, now() + $3 * interval '1 millisecond') ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, until = excluded.until WHERE ` + l + `.until <= now()`,
		unlock:       `DELETE FROM ` + l + ` WHERE id = $1 AND owner = $2`,
		cleanup:      `DELETE FROM ` + t + ` WHERE expiry <= now()`,
		cleanupLocks: `DELETE FROM ` + l + ` WHERE until <= now()`,
	}
	iv := o.CleanupInterval
	if iv == 0 {
		iv = 5 * time.Minute
	}
	if iv < 0 {
		close(s.done)
	} else {
		go s.cleanup(iv)
	}
	return s, nil
}

// create makes the tables, under a transaction-scoped advisory lock so
// that processes starting together do not race CREATE TABLE.
func create(ctx context.Context, pool *pgxpool.Pool, t, l string) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, a no-op
	for _, stmt := range []string{
		`SELECT pg_advisory_xact_lock(hashtext('gopaste.pgstore.create'))`,
		`CREATE TABLE IF NOT EXISTS ` + t + ` (id TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS ` + t + `_expiry_idx ON ` + t + ` (expiry)`,
		`CREATE TABLE IF NOT EXISTS ` + l + ` (id TEXT PRIMARY KEY, owner TEXT NOT NULL, until TIMESTAMPTZ NOT NULL)`,
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("pgstore: create table %s: %w", t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: create table %s: %w", t, err)
	}
	return nil
}

// Pool returns the pool, for benchmarks and tools.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the cleanup loop and closes the pool.
func (s *Store) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	s.pool.Close()
	return nil
}

func (s *Store) cleanup(iv time.Duration) {
	defer close(s.done)
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), iv)
			if err := s.DeleteExpired(ctx); err != nil {
				s.log.Warn("session cleanup", "err", err)
			}
			cancel()
		}
	}
}

// DeleteExpired deletes the expired sessions and lapsed locks.
func (s *Store) DeleteExpired(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, s.q.cleanup)
	if err == nil {
		_, err = s.pool.Exec(ctx, s.q.cleanupLocks)
	}
	if err != nil {
		return fmt.Errorf("pgstore: cleanup: %w", err)
	}
	return nil
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
	err := s.pool.QueryRow(ctx, s.q.find, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: find: %w", err)
	}
	return nonNil(data), true, nil
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if _, err := s.pool.Exec(ctx, s.q.commit, key, nonNil(data), expiry); err != nil {
		return fmt.Errorf("pgstore: commit: %w", err)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, s.q.del, key); err != nil {
		return fmt.Errorf("pgstore: delete: %w", err)
	}
	return nil
}

// Swap implements session.Swapper with one conditional statement.
func (s *Store) Swap(ctx context.Context, key string, old, data []byte, expiry time.Time) (bool, error) {
	var err error
	var n int64
	if old == nil {
		tag, e := s.pool.Exec(ctx, s.q.swapNew, key, nonNil(data), expiry)
		n, err = tag.RowsAffected(), e
	} else {
		tag, e := s.pool.Exec(ctx, s.q.swapOld, nonNil(data), expiry, key, old)
		n, err = tag.RowsAffected(), e
	}
	if err != nil {
		return false, fmt.Errorf("pgstore: swap: %w", err)
	}
	return n == 1, nil
}

// Lock implements session.Locker with a lease row that lapses after ttl.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	var b [12]byte
	rand.Read(b[:])
	owner := hex.EncodeToString(b[:])
	ttl = max(ttl, time.Millisecond) // the lease is timed in whole milliseconds
	wait := time.Millisecond
	for {
		tag, err := s.pool.Exec(ctx, s.q.lock, key, owner, ttl.Milliseconds())
		if err != nil {
			return nil, fmt.Errorf("pgstore: lock: %w", err)
		}
		if tag.RowsAffected() == 1 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("pgstore: lock: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, 20*time.Millisecond)
	}
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() {
			if _, e := s.pool.Exec(ctx, s.q.unlock, key, owner); e != nil {
				err = fmt.Errorf("pgstore: unlock: %w", e)
			}
		})
		return err
	}, nil
}
