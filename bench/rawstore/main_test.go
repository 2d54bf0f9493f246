package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/redisconn"
	"github.com/gopaste/gopaste/session/pgstore"
	"github.com/gopaste/gopaste/session/storetest"
)

// serve runs the handler on rt as main does: a key per connection.
func serve(t *testing.T, rt roundTrip) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler(rt))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, newKey())
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// visits sends n GETs on one keep-alive connection and returns the
// counters answered.
func visits(t *testing.T, url string, n int) []int {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}, Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	var out []int
	for range n {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		var v visit
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, decode: %v", resp.StatusCode, err)
		}
		out = append(out, v.Visits)
	}
	return out
}

func checkCounts(t *testing.T, rt roundTrip) {
	t.Helper()
	srv := serve(t, rt)
	for conn := range 2 {
		got := visits(t, srv.URL, 3)
		if got[0] != 1 || got[1] != 2 || got[2] != 3 {
			t.Errorf("connection %d: visits %v, want [1 2 3] (a key per connection)", conn, got)
		}
	}
}

func TestMemoryAndFile(t *testing.T) {
	for _, store := range []string{"memory", "file"} {
		t.Run(store, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			rt, closeStore, _, err := open(t.Context(), store, dir, "", "", "", "", "", "")
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore()
			checkCounts(t, rt)
		})
	}
}

func TestSQLite(t *testing.T) {
	rt, closeStore, _, err := open(t.Context(), "sqlite", filepath.Join(t.TempDir(), "s.db"), "", "", "", "raw_test", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	checkCounts(t, rt)
}

func TestRedisCleansUpOnlyItsPrefix(t *testing.T) {
	ns := "gprawtest_" + strconv.Itoa(os.Getpid()) + ":"
	c, err := redisconn.Open("redis://127.0.0.1:6379/0?dial_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	storetest.Require(t, "redis", c.Ping(t.Context()))
	other := "gprawtest_other_" + strconv.Itoa(os.Getpid())
	if err := c.Set(t.Context(), other, "x", time.Minute); err != nil {
		t.Fatal(err)
	}
	defer c.Del(context.Background(), other)

	rt, closeStore, cleanup, err := open(t.Context(), "redis", "", "redis://127.0.0.1:6379/0", "", ns+"raw:", "", ns, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	checkCounts(t, rt)
	if n, _ := c.Keys(t.Context(), ns+"raw:"); len(n) != 2 {
		t.Errorf("%d keys under %s, want 2 (one per connection)", len(n), ns)
	}
	if err := cleanup(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Keys(t.Context(), ns); len(n) != 0 {
		t.Errorf("keys left after cleanup: %q", n)
	}
	if _, ok, err := c.Get(t.Context(), other); !ok || err != nil {
		t.Errorf("cleanup touched a key outside its prefix: %v %v", ok, err)
	}
}

func TestPostgresDropsItsTables(t *testing.T) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	storetest.Require(t, "postgres", err)
	c.Close()
	const dsn = "postgres://postgres@127.0.0.1:5432/test"
	table := "gprawtest_" + strconv.Itoa(os.Getpid())
	rt, closeStore, cleanup, err := open(t.Context(), "postgres", "", "", dsn, "", table, "", table)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	checkCounts(t, rt)
	if err := cleanup(t.Context()); err != nil {
		t.Fatal(err)
	}
	pool, err := pgstore.OpenDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_tables WHERE tablename = $1", table).Scan(&n); err != nil || n != 0 {
		t.Errorf("table %s: %d left after cleanup (%v)", table, n, err)
	}
	if _, _, _, err := open(t.Context(), "postgres", "", "", dsn, "", table, "", "a;drop"); err == nil {
		t.Error("-drop-tables with a non-identifier accepted")
	}
}
