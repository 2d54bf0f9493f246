package static

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopaste/gopaste/internal/tcpcork"
	"github.com/gopaste/gopaste/registry"
)

type corkRecorder struct{ calls []bool }

func (r *corkRecorder) Cork(on bool) { r.calls = append(r.calls, on) }

// TestNoPush: a large file is corked and uncorked around its response only
// with NoPush; a small one, a HEAD or Options without it never.
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

// TestNoPushKey: tcp_nopush is on unless the config turns it off.
func TestNoPushKey(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		entries []registry.Entry
		want    bool
	}{
		{nil, true},
		{[]registry.Entry{{Key: "tcp_nopush", Value: "false"}}, false},
		{[]registry.Entry{{Key: "tcp_nopush", Value: "true"}}, true},
	} {
		entries := append([]registry.Entry{{Key: "document_root", Value: dir}}, tc.entries...)
		c := registry.NewConfig(registry.App, "app:main", "t.ini:1", filepath.Join(dir, "t.ini"), nil, entries, nil, nil)
		h, err := factory(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.(*Handler).opts.NoPush; got != tc.want {
			t.Errorf("%v: NoPush %v, want %v", tc.entries, got, tc.want)
		}
		h.(*Handler).Close()
	}
}
