package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session/memstore"
	"github.com/gopaste/gopaste/session/storetest"
)

func BenchmarkSession(b *testing.B) {
	s := memstore.New(memstore.Options{CleanupInterval: -1})
	defer s.Close()
	storetest.Bench(b, s, func(ctx context.Context, key string, data []byte) error {
		if _, _, err := s.Find(ctx, key); err != nil {
			return err
		}
		return s.Commit(ctx, key, data, time.Now().Add(time.Hour))
	})
}
