package limit

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/registry/registrytest"
)

// generation builds the limit filter of section in file, as deploy does
// for one generation with the serve loop's pool; close discards it.
func generation(t *testing.T, pool *registry.Pool, section string, keys map[string]string) (h http.Handler, close func()) {
	t.Helper()
	c, discard := registrytest.Generation(t, pool, registry.Filter, section, "/tmp/t.ini", keys)
	mw, err := factory(c)
	if err != nil {
		t.Fatal(err)
	}
	return mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), discard
}

func status(h http.Handler) int {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	h.ServeHTTP(w, r)
	return w.Code
}

// TestReloadKeepsCounts: a client that used its burst is still limited by
// the next generation of the same section, counted apart in another
// section, and starts afresh once every generation that counted it is
// gone or when the rate changes.
func TestReloadKeepsCounts(t *testing.T) {
	pool := new(registry.Pool)
	slow := map[string]string{"rate": "1/h", "burst": "1"}
	old, closeOld := generation(t, pool, "filter:limit", slow)
	if got := status(old); got != http.StatusOK {
		t.Fatalf("first request: %d", got)
	}
	next, closeNext := generation(t, pool, "filter:limit", slow)
	closeOld()
	if got := status(next); got != http.StatusTooManyRequests {
		t.Errorf("after a reload the client's burst is back: %d, want 429", got)
	}
	other, closeOther := generation(t, pool, "filter:other", slow)
	if got := status(other); got != http.StatusOK {
		t.Errorf("another section shares the counts: %d, want 200", got)
	}
	changed, closeChanged := generation(t, pool, "filter:limit", map[string]string{"rate": "2/h", "burst": "1"})
	if got := status(changed); got != http.StatusOK {
		t.Errorf("a changed rate kept the old counts: %d, want 200", got)
	}
	closeOther()
	closeChanged()
	closeNext()
	if pool.Len() != 0 {
		t.Fatalf("tables left in the pool: %d", pool.Len())
	}
	again, closeAgain := generation(t, pool, "filter:limit", slow)
	defer closeAgain()
	if got := status(again); got != http.StatusOK {
		t.Errorf("a table released by its last generation came back: %d, want 200", got)
	}
}
