package filestore_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopaste/gopaste/session/filestore"
	"github.com/gopaste/gopaste/session/storetest"
)

func BenchmarkSession(b *testing.B) {
	dir := b.TempDir()
	s, err := filestore.New(filepath.Join(dir, "store"), filestore.Options{CleanupInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	raw := filepath.Join(dir, "raw")
	os.Mkdir(raw, 0o700)
	storetest.Bench(b, s, func(_ context.Context, key string, data []byte) error {
		p := filepath.Join(raw, key)
		if _, err := os.ReadFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return os.WriteFile(p, data, 0o600)
	})
}
