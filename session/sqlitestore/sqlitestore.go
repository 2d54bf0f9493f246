// Package sqlitestore keeps sessions in an SQLite database through
// modernc.org/sqlite (pure Go, no cgo): the embedded default for sessions
// that persist across restarts and are shared by the processes of one
// machine.
//
// The database runs in WAL mode with a busy timeout, so that readers do
// not block the writer and concurrent writers (other processes included)
// wait instead of failing. The store creates its tables if missing:
//
//	CREATE TABLE sessions (id TEXT PRIMARY KEY, data BLOB NOT NULL, expiry INTEGER NOT NULL)
//	CREATE TABLE sessions_locks (id TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL)
//
// id is the session's store key (a hash of the token), data its stored
// record (JSON), expiry and until Unix times in nanoseconds. The table
// name is configurable; the lock table is its name plus "_locks".
//
// Exclusive locks are lease rows: taken by an insert that succeeds only
// when no live lease exists, released by deleting the row, and lapsing
// at until when the holder died.
//
// The connection pool is bounded: at most Options.MaxConns connections
// (default 4), and at most Options.MaxWaiting calls (default 64) waiting
// up to Options.WaitTimeout (default 1s) for one. A call beyond that
// fails at once with an error wrapping [session.ErrBusy], which the
// session filter answers with 503 and Retry-After, so that a burst of
// clients is refused rather than piled up behind the database.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopaste/gopaste/session"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Pool defaults; docs/sessions.md states them.
const (
	DefaultMaxConns    = 4
	DefaultMaxWaiting  = 64
	DefaultWaitTimeout = time.Second
)

// Options configure a [Store].
type Options struct {
	// Table is the sessions table; default "sessions".
	Table string
	// BusyTimeout is how long a write waits for another writer; default 5s.
	BusyTimeout time.Duration
	// CleanupInterval is how often expired rows are deleted; zero means 5
	// minutes, negative means never.
	CleanupInterval time.Duration
	// Logger reports cleanup trouble; nil means slog.Default().
	Logger *slog.Logger

	// MaxConns is the most database connections the store opens; zero
	// means DefaultMaxConns (4).
	MaxConns int
	// MaxWaiting is the most calls waiting for a connection when all
	// are in use; a call beyond it fails at once with session.ErrBusy.
	// Zero means DefaultMaxWaiting (64); negative means none wait.
	MaxWaiting int
	// WaitTimeout is how long a call waits for a connection before it
	// fails with session.ErrBusy; zero means DefaultWaitTimeout (1s).
	WaitTimeout time.Duration
}

// Store is an SQLite session store. It is safe for concurrent use, and
// several processes may open the same file. Close stops the cleanup loop
// and closes the database.
type Store struct {
	db   *sql.DB
	log  *slog.Logger
	q    queries
	gate gate

	stopSweep func() // the cleanup loop's
}

type queries struct {
	find, commit, del, swapOld, swapNew, lock, unlock, cleanup, cleanupLocks string
}

// tableName is compiled on first use: its {0,62} compiles to hundreds of
// allocations, which every gopaste process would otherwise pay at start.
var tableName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
})

// New opens (creating them if needed) the database file path and its
// tables.
func New(ctx context.Context, path string, o Options) (*Store, error) {
	if o.Table == "" {
		o.Table = "sessions"
	}
	if !tableName().MatchString(o.Table) {
		return nil, fmt.Errorf("sqlitestore: invalid table name %q", o.Table)
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxWaiting == 0 {
		o.MaxWaiting = DefaultMaxWaiting
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	v := url.Values{}
	v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	t, l := o.Table, o.Table+"_locks"
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (id TEXT PRIMARY KEY, data BLOB NOT NULL, expiry INTEGER NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS ` + t + `_expiry ON ` + t + ` (expiry)`,
		`CREATE TABLE IF NOT EXISTS ` + l + ` (id TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlitestore: create tables in %s: %w", path, err)
		}
	}
	s := &Store{db: db, log: o.Logger,
		gate: gate{slots: make(chan struct{}, o.MaxConns), maxWaiting: int64(max(o.MaxWaiting, 0)), timeout: o.WaitTimeout}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.q = queries{
		find:         `SELECT data FROM ` + t + ` WHERE id = ? AND expiry > ?`,
		commit:       `INSERT INTO ` + t + ` (id, data, expiry) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		del:          `DELETE FROM ` + t + ` WHERE id = ?`,
		swapOld:      `UPDATE ` + t + ` SET data = ?, expiry = ? WHERE id = ? AND data = ? AND expiry > ?`,
		swapNew:      `INSERT INTO ` + t + ` (id, data, expiry) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry WHERE ` + t + `.expiry <= ?`,
		lock:         `INSERT INTO ` + l + ` (id, owner, until) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, until = excluded.until WHERE ` + l + `.until <= ?`,
		unlock:       `DELETE FROM ` + l + ` WHERE id = ? AND owner = ?`,
		cleanup:      `DELETE FROM ` + t + ` WHERE expiry <= ?`,
		cleanupLocks: `DELETE FROM ` + l + ` WHERE until <= ?`,
	}
	s.stopSweep = session.Sweep(o.CleanupInterval, s.log, s.DeleteExpired)
	return s, nil
}

// DB returns the database, for benchmarks and tools.
func (s *Store) DB() *sql.DB { return s.db }

// Close stops the cleanup loop and closes the database.
func (s *Store) Close() error {
	s.stopSweep()
	return s.db.Close()
}

// DeleteExpired deletes the sessions and locks expired at now.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	if err := s.gate.enter(ctx); err != nil {
		return fmt.Errorf("sqlitestore: cleanup: %w", err)
	}
	defer s.gate.leave()
	_, err := s.db.ExecContext(ctx, s.q.cleanup, now.UnixNano())
	if err == nil {
		_, err = s.db.ExecContext(ctx, s.q.cleanupLocks, now.UnixNano())
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: cleanup: %w", err)
	}
	return nil
}

// nonNil keeps an empty value a zero-length blob rather than NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Find implements session.Store.
func (s *Store) Find(ctx context.Context, key string) ([]byte, bool, error) {
	if err := s.gate.enter(ctx); err != nil {
		return nil, false, fmt.Errorf("sqlitestore: find: %w", err)
	}
	defer s.gate.leave()
	var data []byte
	err := s.db.QueryRowContext(ctx, s.q.find, key, time.Now().UnixNano()).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlitestore: find: %w", err)
	}
	return nonNil(data), true, nil
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := s.gate.enter(ctx); err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", err)
	}
	defer s.gate.leave()
	if _, err := s.db.ExecContext(ctx, s.q.commit, key, nonNil(data), expiry.UnixNano()); err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", err)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.gate.enter(ctx); err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", err)
	}
	defer s.gate.leave()
	if _, err := s.db.ExecContext(ctx, s.q.del, key); err != nil {
		return fmt.Errorf("sqlitestore: delete: %w", err)
	}
	return nil
}

// Swap implements session.Swapper with one conditional statement.
func (s *Store) Swap(ctx context.Context, key string, old, data []byte, expiry time.Time) (bool, error) {
	if err := s.gate.enter(ctx); err != nil {
		return false, fmt.Errorf("sqlitestore: swap: %w", err)
	}
	defer s.gate.leave()
	now := time.Now().UnixNano()
	var res sql.Result
	var err error
	if old == nil {
		res, err = s.db.ExecContext(ctx, s.q.swapNew, key, nonNil(data), expiry.UnixNano(), now)
	} else {
		res, err = s.db.ExecContext(ctx, s.q.swapOld, nonNil(data), expiry.UnixNano(), key, old, now)
	}
	if err != nil {
		return false, fmt.Errorf("sqlitestore: swap: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlitestore: swap: %w", err)
	}
	return n == 1, nil
}

// Lock implements session.Locker with a lease row that lapses after ttl.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, error) {
	owner := session.LockOwner()
	ttl = max(ttl, time.Millisecond)
	err := session.WaitLock(ctx, func() (bool, error) {
		res, err := s.tryLock(ctx, key, owner, ttl)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		return err == nil && n == 1, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: lock: %w", err)
	}
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() {
			if e := s.gate.enter(ctx); e != nil {
				err = fmt.Errorf("sqlitestore: unlock: %w", e) // the lease lapses at its ttl
				return
			}
			defer s.gate.leave()
			if _, e := s.db.ExecContext(ctx, s.q.unlock, key, owner); e != nil {
				err = fmt.Errorf("sqlitestore: unlock: %w", e)
			}
		})
		return err
	}, nil
}

// tryLock is one attempt at the lease row; the connection is given back
// between attempts, so that a waiting lock holds no pool slot.
func (s *Store) tryLock(ctx context.Context, key, owner string, ttl time.Duration) (sql.Result, error) {
	if err := s.gate.enter(ctx); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	now := time.Now()
	return s.db.ExecContext(ctx, s.q.lock, key, owner, now.Add(ttl).UnixNano(), now.UnixNano())
}

// gate bounds the calls using the database: len(slots) hold a
// connection, at most maxWaiting wait up to timeout for one, and the
// rest are refused with session.ErrBusy. database/sql alone would queue
// every caller until its context ends.
type gate struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
	timeout    time.Duration
}

func (g *gate) enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	if g.waiting.Add(1) > g.maxWaiting {
		g.waiting.Add(-1)
		return session.ErrBusy
	}
	defer g.waiting.Add(-1)
	t := time.NewTimer(g.timeout)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-t.C:
		return session.ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) leave() { <-g.slots }
