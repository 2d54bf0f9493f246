// Command rawstore is the baseline the session benchmarks compare the
// session filter with: per request it does the store's own round trip
// directly with its driver, and nothing else a session manager does (no
// cookie, no codec, no locking). Each connection gets a key of its own, as
// each wrk connection gets a session of its own behind the filter.
//
//	memory    a map under a mutex: read, write
//	file      os.ReadFile + os.WriteFile of one file per key
//	sqlite    SELECT + INSERT … ON CONFLICT (modernc.org/sqlite, WAL)
//	redis     GET + SET with a TTL (internal/redisconn, as the store)
//	postgres  SELECT + INSERT … ON CONFLICT (pgstore.OpenDB's pool, as the store)
//
// The value stored is a small JSON object with a visit counter, about the
// size of session_info's session. It answers that object, like
// session_info, and logs addr=HOST:PORT.
//
// On SIGTERM it removes what the benchmark left in the shared servers:
// the Redis keys under -cleanup-prefix and the PostgreSQL tables in
// -drop-tables (its own and the filter's, which the harness stops first).
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gopaste/gopaste/internal/redisconn"
	"github.com/gopaste/gopaste/session/pgstore"
)

// roundTrip loads key's value (nil when absent) and stores next(old).
type roundTrip func(ctx context.Context, key string, next func(old []byte) []byte) error

type connKey struct{}

var ident = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,50}$`)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	store := flag.String("store", "memory", "memory, file, sqlite, redis or postgres")
	path := flag.String("path", "", "directory (file) or database file (sqlite)")
	redisURL := flag.String("url", "redis://127.0.0.1:6379/0", "Redis URL")
	dsn := flag.String("dsn", "postgres://postgres@127.0.0.1:5432/test", "PostgreSQL DSN")
	prefix := flag.String("prefix", "", "Redis key prefix of this run (required for redis)")
	table := flag.String("table", "raw_sessions", "table (sqlite, postgres)")
	cleanupPrefix := flag.String("cleanup-prefix", "", "on exit, delete the Redis keys under this prefix")
	dropTables := flag.String("drop-tables", "", "on exit, drop these comma-separated PostgreSQL tables")
	flag.Parse()

	ctx := context.Background()
	rt, closeStore, cleanup, err := open(ctx, *store, *path, *redisURL, *dsn, *prefix, *table, *cleanupPrefix, *dropTables)
	if err != nil {
		log.Fatalf("rawstore: %v", err)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler: handler(rt),
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, newKey())
		},
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sig
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	log.Printf("rawstore %s listening addr=%s", *store, l.Addr())
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := cleanup(cctx); err != nil {
		log.Printf("rawstore: cleanup: %v", err)
	}
	closeStore()
}

func newKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// visit is what every store holds and the handler answers.
type visit struct {
	Visits  int    `json:"visits"`
	User    string `json:"user"`
	Created string `json:"created"`
}

func handler(rt roundTrip) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, _ := r.Context().Value(connKey{}).(string)
		var v visit
		err := rt(r.Context(), key, func(old []byte) []byte {
			if old == nil || json.Unmarshal(old, &v) != nil {
				v = visit{Created: time.Now().UTC().Format(time.RFC3339)}
			}
			v.Visits++
			b, _ := json.Marshal(v)
			return b
		})
		if err != nil {
			log.Printf("rawstore: %v", err)
			http.Error(w, "store error", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(v)
	})
}

func noCleanup(context.Context) error { return nil }

func open(ctx context.Context, store, path, redisURL, dsn, prefix, table, cleanupPrefix, dropTables string) (roundTrip, func(), func(context.Context) error, error) {
	switch store {
	case "memory":
		var mu sync.Mutex
		m := map[string][]byte{}
		return func(_ context.Context, key string, next func([]byte) []byte) error {
			mu.Lock()
			old := m[key]
			mu.Unlock()
			b := next(old)
			mu.Lock()
			m[key] = b
			mu.Unlock()
			return nil
		}, func() {}, noCleanup, nil
	case "file":
		if path == "" {
			return nil, nil, nil, errors.New("-path is required for file")
		}
		if err := os.MkdirAll(path, 0o700); err != nil {
			return nil, nil, nil, err
		}
		return func(_ context.Context, key string, next func([]byte) []byte) error {
			p := filepath.Join(path, key)
			old, err := os.ReadFile(p)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return os.WriteFile(p, next(old), 0o600)
		}, func() {}, noCleanup, nil
	case "sqlite":
		return openSQLite(ctx, path, table)
	case "redis":
		return openRedis(ctx, redisURL, prefix, cleanupPrefix)
	case "postgres":
		return openPostgres(ctx, dsn, table, dropTables)
	}
	return nil, nil, nil, fmt.Errorf("unknown store %q", store)
}

// openSQLite opens path as sqlitestore does: WAL, synchronous NORMAL, a
// 5 s busy timeout, the same table layout.
func openSQLite(ctx context.Context, path, table string) (roundTrip, func(), func(context.Context) error, error) {
	if path == "" || !ident.MatchString(table) {
		return nil, nil, nil, fmt.Errorf("sqlite needs -path and a plain -table (got %q)", table)
	}
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(5000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+v.Encode())
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (id TEXT PRIMARY KEY, data BLOB NOT NULL, expiry INTEGER NOT NULL)`); err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	find := `SELECT data FROM ` + table + ` WHERE id = ? AND expiry > ?`
	upsert := `INSERT INTO ` + table + ` (id, data, expiry) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`
	return func(ctx context.Context, key string, next func([]byte) []byte) error {
		var old []byte
		err := db.QueryRowContext(ctx, find, key, time.Now().UnixNano()).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = db.ExecContext(ctx, upsert, key, next(old), time.Now().Add(time.Hour).UnixNano())
		return err
	}, func() { db.Close() }, noCleanup, nil
}

func openRedis(ctx context.Context, redisURL, prefix, cleanupPrefix string) (roundTrip, func(), func(context.Context) error, error) {
	if prefix == "" {
		return nil, nil, nil, errors.New("redis needs a -prefix unique to the run")
	}
	c, err := redisconn.Open(redisURL)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := c.Ping(ctx); err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	rt := func(ctx context.Context, key string, next func([]byte) []byte) error {
		old, _, err := c.Get(ctx, prefix+key)
		if err != nil {
			return err
		}
		return c.Set(ctx, prefix+key, next(old), time.Hour)
	}
	cleanup := func(ctx context.Context) error {
		if cleanupPrefix == "" {
			return nil
		}
		return c.DeletePrefix(ctx, cleanupPrefix) // only the run's keys: the database is shared
	}
	return rt, func() { c.Close() }, cleanup, nil
}

func openPostgres(ctx context.Context, dsn, table, dropTables string) (roundTrip, func(), func(context.Context) error, error) {
	var drop []string
	for _, t := range strings.Split(dropTables, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !ident.MatchString(t) {
			return nil, nil, nil, fmt.Errorf("-drop-tables: %q is not a plain table name", t)
		}
		drop = append(drop, t)
	}
	if !ident.MatchString(table) {
		return nil, nil, nil, fmt.Errorf("-table: %q is not a plain table name", table)
	}
	pool, err := pgstore.OpenDB(dsn)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := pool.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (id TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`); err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	// Prepared, as the store's statements are.
	find, err := pool.PrepareContext(ctx, `SELECT data FROM `+table+` WHERE id = $1 AND expiry > now()`)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	upsert, err := pool.PrepareContext(ctx, `INSERT INTO `+table+` (id, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	rt := func(ctx context.Context, key string, next func([]byte) []byte) error {
		var old []byte
		err := find.QueryRowContext(ctx, key).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = upsert.ExecContext(ctx, key, next(old), time.Now().Add(time.Hour))
		return err
	}
	cleanup := func(ctx context.Context) error {
		if len(drop) == 0 {
			return nil
		}
		_, err := pool.ExecContext(ctx, `DROP TABLE IF EXISTS `+strings.Join(drop, ", "))
		return err
	}
	return rt, func() { pool.Close() }, cleanup, nil
}
