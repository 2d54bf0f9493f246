package pgstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session/pgstore"
	"github.com/gopaste/gopaste/session/storetest"
)

func BenchmarkSession(b *testing.B) {
	table := storetest.Namespace(b)
	s, err := pgstore.Open(b.Context(), dsn(), pgstore.Options{Table: table, CleanupInterval: -1})
	storetest.Require(b, "postgres", err)
	db := s.DB()
	defer func() {
		db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table+", "+table+"_locks")
		s.Close()
	}()
	// Prepared, as the store's statements are.
	find, err := db.PrepareContext(b.Context(), `SELECT data FROM `+table+` WHERE id = $1 AND expiry > now()`)
	if err != nil {
		b.Fatal(err)
	}
	upsert, err := db.PrepareContext(b.Context(), `INSERT INTO `+table+` (id, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`)
	if err != nil {
		b.Fatal(err)
	}
	storetest.Bench(b, s, func(ctx context.Context, key string, data []byte) error {
		var old []byte
		err := find.QueryRowContext(ctx, key).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = upsert.ExecContext(ctx, key, data, time.Now().Add(time.Hour))
		return err
	})
}
