package cache

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/peer"
	"github.com/gopaste/gopaste/internal/redisconn"
	"github.com/gopaste/gopaste/registry"
)

const redisURL = "redis://127.0.0.1:6379/0"

// requireRedis returns a client for the local Redis, skipping the test when
// it is not running (failing under CI=true).
func requireRedis(t *testing.T) *redisconn.Client {
	t.Helper()
	client, err := redisconn.Open(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx); err != nil {
		client.Close()
		peer.Missing(t, "redis at %s: %v", redisURL, err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// cleanKeys deletes the keys under prefix when the test ends.
func cleanKeys(t *testing.T, client *redisconn.Client, prefix string) {
	t.Cleanup(func() {
		if err := client.DeletePrefix(context.Background(), prefix); err != nil {
			t.Error(err)
		}
	})
}

func TestRedisStore(t *testing.T) {
	client := requireRedis(t)
	prefix := fmt.Sprintf("gopaste-test:%d:", time.Now().UnixNano())
	cleanKeys(t, client, prefix)
	s := NewRedisStore(client)
	ctx := t.Context()
	e := &Entry{Status: 200, Header: http.Header{"A": {"b"}}, Body: []byte("x"), Stored: time.Unix(1, 0), FreshUntil: time.Unix(2, 0)}
	if err := s.Set(ctx, prefix+"k", e, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Get(ctx, prefix+"k")
	if err != nil || !ok || string(got.Body) != "x" || got.Header.Get("A") != "b" {
		t.Fatalf("Get = %+v, %v, %v", got, ok, err)
	}
	if ttl, _ := client.PTTL(ctx, prefix+"k"); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL = %v, want (0, 1m]", ttl)
	}
	if err := s.Delete(ctx, prefix+"k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(ctx, prefix+"k"); ok || err != nil {
		t.Errorf("after Delete: found=%v err=%v", ok, err)
	}
	if err := client.Set(ctx, prefix+"junk", "not an entry", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Get(ctx, prefix+"junk"); ok || err != nil {
		t.Errorf("junk: found=%v err=%v", ok, err)
	}
	if n, err := redisconn.Int(client.Do(ctx, "EXISTS", prefix+"junk")); n != 0 || err != nil {
		t.Error("junk entry not deleted")
	}
}

func TestRedisFilter(t *testing.T) {
	client := requireRedis(t)
	prefix := fmt.Sprintf("gopaste-test:%d:", time.Now().UnixNano())
	cleanKeys(t, client, prefix)
	c := registry.NewConfig(registry.Filter, "filter:cache", "t.ini:1", "/tmp/t.ini", nil, []registry.Entry{
		{Key: "url", Value: redisURL}, {Key: "key_prefix", Value: prefix},
	}, nil, nil)
	filter, err := factory(c)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, cl := range c.Closers() {
			cl.Close()
		}
	}()
	release := make(chan struct{})
	be := &backend{header: map[string]string{"Cache-Control": "max-age=30", "Vary": "Accept"}}
	be.fn = func(w http.ResponseWriter, r *http.Request) bool { <-release; return false }
	h := filter(be)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/r", nil)) })
	}
	close(release)
	wg.Wait()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/r", nil))
	if w.Header().Get("X-Cache") != "HIT" || w.Body.String() != "run 1" {
		t.Errorf("after fill: X-Cache %q body %q", w.Header().Get("X-Cache"), w.Body)
	}
	if n := be.runs.Load(); n != 1 {
		t.Errorf("backend ran %d times, want 1", n)
	}
	keys, err := client.Keys(t.Context(), prefix)
	if err != nil || len(keys) != 2 { // the Vary marker and the variant
		t.Errorf("keys %q, want 2", keys)
	}
	for _, k := range keys {
		if ttl, _ := client.PTTL(t.Context(), k); ttl <= 0 || ttl > 30*time.Second {
			t.Errorf("TTL of %q = %v, want the freshness (30s)", k, ttl)
		}
	}
}
