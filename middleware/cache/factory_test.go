package cache

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

func newConfig(local ...registry.Entry) *registry.Config {
	for i := range local {
		local[i].Origin = "t.ini:" + string(rune('2'+i))
	}
	return registry.NewConfig(registry.Filter, "filter:cache", "t.ini:1", "/tmp/t.ini", nil, local, nil, nil)
}

func TestFactory(t *testing.T) {
	c := newConfig(
		registry.Entry{Key: "max_bytes", Value: "1M"},
		registry.Entry{Key: "max_entry_bytes", Value: "10K"},
		registry.Entry{Key: "default_ttl", Value: "60"},
		registry.Entry{Key: "keep_stale", Value: "1h"},
		registry.Entry{Key: "key_prefix", Value: "x:"},
	)
	filter, err := factory(c)
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Unread(); len(u) != 0 {
		t.Errorf("unread keys %v", u)
	}
	be := &backend{} // no Cache-Control: default_ttl applies
	h := filter(be)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Header().Get("X-Cache") != "HIT" {
		t.Errorf("default_ttl not applied: X-Cache %q", w.Header().Get("X-Cache"))
	}
}

func TestFactoryErrors(t *testing.T) {
	tests := []struct {
		name  string
		local []registry.Entry
		want  string
	}{
		{"bad size", []registry.Entry{{Key: "max_bytes", Value: "lots"}}, `key "max_bytes"`},
		{"zero size", []registry.Entry{{Key: "max_bytes", Value: "0"}}, `key "max_bytes": must be more than 0`},
		{"bad ttl", []registry.Entry{{Key: "default_ttl", Value: "soon"}}, `key "default_ttl"`},
		{"zero entry", []registry.Entry{{Key: "max_entry_bytes", Value: "0"}}, `key "max_entry_bytes"`},
		{"not redis", []registry.Entry{{Key: "url", Value: "memcache://x"}}, `key "url": "memcache://x" is not a redis:// URL`},
		{"bad redis url", []registry.Entry{{Key: "url", Value: "redis://127.0.0.1:6379/notadb"}}, `key "url"`},
		{"max_bytes with redis", []registry.Entry{{Key: "url", Value: "redis://127.0.0.1:6379/0"}, {Key: "max_bytes", Value: "1M"}}, `key "max_bytes": applies to the memory store only`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConfig(tt.local...)
			_, err := factory(c)
			for _, cl := range c.Closers() {
				cl.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "[filter:cache]") {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// generation builds the cache filter of section around h, as deploy does
// for one generation with the serve loop's pool; close discards it.
func generation(t *testing.T, pool *registry.Pool, section string, h http.Handler, local map[string]string) (http.Handler, func()) {
	t.Helper()
	c, discard := registrytest.Generation(t, pool, registry.Filter, section, "/tmp/t.ini", local)
	mw, err := factory(c)
	if err != nil {
		t.Fatal(err)
	}
	return mw(h), discard
}

func body(h http.Handler) string {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/page", nil))
	return w.Body.String()
}

func says(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		io.WriteString(w, s)
	})
}

// TestReloadKeepsCache: the memory cache of a section outlives a reload
// (the new generation serves what the old one cached), is apart from
// another section's, starts empty after a max_bytes change, and is gone
// once the last generation using it is closed.
func TestReloadKeepsCache(t *testing.T) {
	pool := new(registry.Pool)
	old, closeOld := generation(t, pool, "filter:cache", says("one"), nil)
	if got := body(old); got != "one" {
		t.Fatalf("first response %q", got)
	}
	next, closeNext := generation(t, pool, "filter:cache", says("two"), nil)
	closeOld()
	if got := body(next); got != "one" {
		t.Errorf("after a reload: %q, want the cached %q", got, "one")
	}
	other, closeOther := generation(t, pool, "filter:other", says("three"), nil)
	if got := body(other); got != "three" {
		t.Errorf("another section's cache answered: %q", got)
	}
	resized, closeResized := generation(t, pool, "filter:cache", says("four"), map[string]string{"max_bytes": "1M"})
	if got := body(resized); got != "four" {
		t.Errorf("a resized cache kept the old entries: %q", got)
	}
	closeOther()
	closeResized()
	closeNext()
	if pool.Len() != 0 {
		t.Fatalf("caches left in the pool: %d", pool.Len())
	}
	again, closeAgain := generation(t, pool, "filter:cache", says("five"), nil)
	defer closeAgain()
	if got := body(again); got != "five" {
		t.Errorf("a cache released by its last generation came back: %q", got)
	}
}
