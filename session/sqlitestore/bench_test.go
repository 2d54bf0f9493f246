package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session/sqlitestore"
	"github.com/gopaste/gopaste/session/storetest"
)

func BenchmarkSession(b *testing.B) {
	s, err := sqlitestore.New(b.Context(), filepath.Join(b.TempDir(), "s.db"), sqlitestore.Options{CleanupInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	db := s.DB()
	storetest.Bench(b, s, func(ctx context.Context, key string, data []byte) error {
		var old []byte
		err := db.QueryRowContext(ctx, `SELECT data FROM sessions WHERE id = ? AND expiry > ?`, key, time.Now().UnixNano()).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = db.ExecContext(ctx, `INSERT INTO sessions (id, data, expiry) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
			key, data, time.Now().Add(time.Hour).UnixNano())
		return err
	})
}
