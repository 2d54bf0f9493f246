package static

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopaste/gopaste/internal/tcpcork"
)

type corkRecorder struct{ calls []bool }

func (r *corkRecorder) Cork(on bool) { r.calls = append(r.calls, on) }

// TestNoPush: a large file is corked and uncorked around its response only
// with NoPush (tcp_nopush); a small one, a HEAD or the default never.
func TestNoPush(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "big"), make([]byte, tcpcork.Min), 0o644)
	os.WriteFile(filepath.Join(dir, "small"), []byte("x"), 0o644)
	for _, tc := range []struct {
		nopush       bool
		method, path string
		want         []bool
	}{
		{false, "GET", "/big", nil},
		{true, "GET", "/big", []bool{true, false}},
		{true, "HEAD", "/big", nil},
		{true, "GET", "/small", nil},
	} {
		h, err := Dir(dir, Options{NoPush: tc.nopush, MemoryCache: -1})
		if err != nil {
			t.Fatal(err)
		}
		var rec corkRecorder
		r := httptest.NewRequest(tc.method, tc.path, nil)
		r = r.WithContext(tcpcork.With(r.Context(), &rec))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || !slices.Equal(rec.calls, tc.want) {
			t.Errorf("NoPush %v, %s %s: %d, cork calls %v, want %v", tc.nopush, tc.method, tc.path, w.Code, rec.calls, tc.want)
		}
		h.Close()
	}
}
