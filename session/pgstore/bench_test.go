package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gopaste/gopaste/session/pgstore"
	"github.com/gopaste/gopaste/session/storetest"
)

func BenchmarkSession(b *testing.B) {
	table := storetest.Namespace(b)
	s, err := pgstore.Open(b.Context(), dsn(), pgstore.Options{Table: table, CleanupInterval: -1})
	storetest.Require(b, "postgres", err)
	pool := s.Pool()
	defer func() {
		pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+table+", "+table+"_locks")
		s.Close()
	}()
	storetest.Bench(b, s, func(ctx context.Context, key string, data []byte) error {
		var old []byte
		err := pool.QueryRow(ctx, `SELECT data FROM `+table+` WHERE id = $1 AND expiry > now()`, key).Scan(&old)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		_, err = pool.Exec(ctx, `INSERT INTO `+table+` (id, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
			key, data, time.Now().Add(time.Hour))
		return err
	})
}
