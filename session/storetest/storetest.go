// Package storetest is the conformance suite every session store runs:
//
//	func TestConformance(t *testing.T) { storetest.Run(t, newStore) }
//
// newStore(t) returns a store on a namespace of its own (a directory, a
// key prefix, a table) that t's cleanup removes. Called twice with the
// same t it must return two handles on the same data, as two processes
// sharing the store would have (another client, pool or open file);
// [Namespace] and [Dir] give a name and a directory stable per t.
//
// The suite checks create, load, overwrite, expiry, renewal, delete,
// concurrent access, unusual data and, for stores that have them, the
// [session.Locker] and [session.Swapper] contracts across two handles.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gopaste/gopaste/session"
)

var (
	runID  = newRunID()
	nsMu   sync.Mutex
	nsDirs = map[string]string{}
)

func newRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Namespace returns a name unique to t and to this test run, made of
// [a-z0-9_]: a key prefix or table name that parallel runs do not share.
func Namespace(t testing.TB) string {
	h := sha256.Sum256([]byte(t.Name()))
	return "gpt_" + runID + "_" + hex.EncodeToString(h[:6])
}

// Dir returns a directory unique to t, the same for every call with t,
// removed when t ends.
func Dir(t testing.TB) string {
	nsMu.Lock()
	defer nsMu.Unlock()
	if d, ok := nsDirs[t.Name()]; ok {
		return d
	}
	d, err := os.MkdirTemp("", "storetest-")
	if err != nil {
		t.Fatal(err)
	}
	nsDirs[t.Name()] = d
	t.Cleanup(func() {
		os.RemoveAll(d)
		nsMu.Lock()
		delete(nsDirs, t.Name())
		nsMu.Unlock()
	})
	return filepath.Clean(d)
}

// Key returns a store key like the ones the session manager uses (the
// base64url SHA-256 of a token).
func Key(t testing.TB, name string) string {
	h := sha256.Sum256([]byte(t.Name() + "\x00" + name))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// Run runs the suite.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Run("CreateLoad", func(t *testing.T) { testCreateLoad(t, newStore(t)) })
	t.Run("Expire", func(t *testing.T) { testExpire(t, newStore(t)) })
	t.Run("Renew", func(t *testing.T) { testRenew(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("SharedHandles", func(t *testing.T) { testShared(t, newStore(t), newStore(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStore(t)) })
	t.Run("BadData", func(t *testing.T) { testBadData(t, newStore(t)) })
	t.Run("Lock", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		la, ok := a.(session.Locker)
		if !ok {
			t.Skipf("%T is not a session.Locker", a)
		}
		testLock(t, la, b.(session.Locker), a, b)
	})
	t.Run("Swap", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		if _, ok := a.(session.Swapper); !ok {
			t.Skipf("%T is not a session.Swapper", a)
		}
		testSwap(t, a, b)
	})
}

// RunLockExpiry checks that a lock whose holder never releases it (a
// crashed process) lapses after its ttl. Stores whose locks die with the
// holding process (flock) check that with a child process instead.
func RunLockExpiry(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Run("LockExpiry", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		key := Key(t, "lock")
		ctx := t.Context()
		if _, err := a.(session.Locker).Lock(ctx, key, 500*time.Millisecond); err != nil {
			t.Fatalf("Lock: %v", err)
		}
		// The holder "crashes": it never unlocks.
		start := time.Now()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		unlock, err := b.(session.Locker).Lock(wctx, key, 500*time.Millisecond)
		if err != nil {
			t.Fatalf("Lock after the holder died: %v (after %v)", err, time.Since(start))
		}
		unlock(ctx)
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("second Lock got the lock after %v, before the ttl", d)
		}
	})
}

func find(t *testing.T, s session.Store, key string) ([]byte, bool) {
	t.Helper()
	data, found, err := s.Find(t.Context(), key)
	if err != nil {
		t.Fatalf("Find(%s): %v", key, err)
	}
	return data, found
}

func commit(t *testing.T, s session.Store, key string, data []byte, expiry time.Time) {
	t.Helper()
	if err := s.Commit(t.Context(), key, data, expiry); err != nil {
		t.Fatalf("Commit(%s): %v", key, err)
	}
}

func hour() time.Time { return time.Now().Add(time.Hour) }

func testCreateLoad(t *testing.T, s session.Store) {
	key := Key(t, "a")
	if _, found := find(t, s, key); found {
		t.Fatal("Find of a key never committed: found")
	}
	commit(t, s, key, []byte(`{"n":1}`), hour())
	if got, found := find(t, s, key); !found || string(got) != `{"n":1}` {
		t.Fatalf("Find after Commit = %q, %v; want {\"n\":1}, true", got, found)
	}
	commit(t, s, key, []byte(`{"n":2}`), hour())
	if got, found := find(t, s, key); !found || string(got) != `{"n":2}` {
		t.Fatalf("Find after second Commit = %q, %v; want {\"n\":2}, true", got, found)
	}
	other := Key(t, "b")
	if _, found := find(t, s, other); found {
		t.Error("Find of another key: found")
	}
}

// waitGone polls until key is not found, for at most limit.
func waitGone(t *testing.T, s session.Store, key string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if _, found := find(t, s, key); !found {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("key still found %v after its expiry", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testExpire(t *testing.T, s session.Store) {
	past := Key(t, "past")
	commit(t, s, past, []byte("x"), time.Now().Add(-time.Minute))
	if _, found := find(t, s, past); found {
		t.Error("Find of an entry committed with an expiry in the past: found")
	}
	soon := Key(t, "soon")
	commit(t, s, soon, []byte("x"), time.Now().Add(time.Second))
	if _, found := find(t, s, soon); !found {
		t.Fatal("Find right after Commit with a 1s expiry: not found")
	}
	waitGone(t, s, soon, 4*time.Second)
}

func testRenew(t *testing.T, s session.Store) {
	key := Key(t, "r")
	commit(t, s, key, []byte("v1"), time.Now().Add(time.Second))
	commit(t, s, key, []byte("v2"), hour())
	other := Key(t, "short")
	commit(t, s, other, []byte("x"), time.Now().Add(time.Second))
	waitGone(t, s, other, 4*time.Second)
	if got, found := find(t, s, key); !found || string(got) != "v2" {
		t.Fatalf("renewed entry after the first expiry = %q, %v; want v2, true", got, found)
	}
}

func testDelete(t *testing.T, s session.Store) {
	key := Key(t, "d")
	commit(t, s, key, []byte("x"), hour())
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, found := find(t, s, key); found {
		t.Error("Find after Delete: found")
	}
	if err := s.Delete(t.Context(), key); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil", err)
	}
	if err := s.Delete(t.Context(), Key(t, "never")); err != nil {
		t.Errorf("Delete of a key never committed: %v, want nil", err)
	}
}

func testShared(t *testing.T, a, b session.Store) {
	key := Key(t, "s")
	commit(t, a, key, []byte("from a"), hour())
	if got, found := find(t, b, key); !found || string(got) != "from a" {
		t.Fatalf("second handle Find = %q, %v; want \"from a\", true", got, found)
	}
	if err := b.Delete(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if _, found := find(t, a, key); found {
		t.Error("first handle still finds an entry the second deleted")
	}
}

func testConcurrent(t *testing.T, s session.Store) {
	const workers, rounds = 8, 10
	shared := Key(t, "shared")
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*3)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := Key(t, "own"+strconv.Itoa(w))
			for i := range rounds {
				v := []byte(fmt.Sprintf("w%d-%d", w, i))
				if err := s.Commit(t.Context(), own, v, hour()); err != nil {
					errs <- err
					return
				}
				if err := s.Commit(t.Context(), shared, v, hour()); err != nil {
					errs <- err
					return
				}
				got, found, err := s.Find(t.Context(), own)
				if err != nil || !found || !bytes.Equal(got, v) {
					errs <- fmt.Errorf("worker %d: Find own = %q, %v, %v; want %q", w, got, found, err, v)
					return
				}
				if _, _, err := s.Find(t.Context(), shared); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, found := find(t, s, shared)
	if !found || !bytes.HasPrefix(got, []byte("w")) {
		t.Errorf("shared entry after concurrent commits = %q, %v; want one of the writes", got, found)
	}
}

func testBadData(t *testing.T, s session.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"every byte", all},
		{"not json", []byte("{\"format\":")},
		{"64KiB", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := Key(t, tc.name)
			commit(t, s, key, tc.data, hour())
			got, found := find(t, s, key)
			if !found || !bytes.Equal(got, tc.data) {
				t.Errorf("Find = %d bytes, %v; want the %d bytes committed", len(got), found, len(tc.data))
			}
		})
	}
	t.Run("path-like key", func(t *testing.T) {
		// Keys are base64url, but a store must not be steered out of its
		// namespace by one that is not: refusing it is fine.
		key := "../../escape"
		if err := s.Commit(t.Context(), key, []byte("x"), hour()); err != nil {
			return
		}
		if got, found := find(t, s, key); !found || string(got) != "x" {
			t.Errorf("Find of an odd key = %q, %v; want what was committed", got, found)
		}
		s.Delete(t.Context(), key) // cleanup; the suite checked Delete already
	})
}

func testLock(t *testing.T, la, lb session.Locker, a, b session.Store) {
	key := Key(t, "lock")
	ctx := t.Context()
	ua, err := la.Lock(ctx, key, 30*time.Second)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = lb.Lock(wctx, key, 30*time.Second)
	cancel()
	if err == nil {
		t.Fatal("second handle got a lock the first holds")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock while held: %v, want an error wrapping context.DeadlineExceeded", err)
	}
	// Another key is independent.
	uo, err := lb.Lock(ctx, Key(t, "other"), 30*time.Second)
	if err != nil {
		t.Fatalf("Lock of another key while the first is held: %v", err)
	}
	uo(ctx)
	if err := ua(ctx); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	ub, err := lb.Lock(ctx, key, 30*time.Second)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	ub(ctx)

	// Mutual exclusion: read-modify-write under the lock from both handles.
	const workers, rounds = 6, 8
	counter := Key(t, "counter")
	commit(t, a, counter, []byte("0"), hour())
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, s := la, a
			if w%2 == 1 {
				l, s = lb, b
			}
			for range rounds {
				lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				unlock, err := l.Lock(lctx, counter, 30*time.Second)
				cancel()
				if err != nil {
					errs <- err
					return
				}
				data, _, err := s.Find(ctx, counter)
				if err == nil {
					n, _ := strconv.Atoi(string(data))
					err = s.Commit(ctx, counter, []byte(strconv.Itoa(n+1)), hour())
				}
				unlock(ctx)
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, _ := find(t, a, counter)
	if want := strconv.Itoa(workers * rounds); string(got) != want {
		t.Errorf("counter after %d locked increments = %s, want %s", workers*rounds, got, want)
	}
}

func testSwap(t *testing.T, a, b session.Store) {
	sa, sb := a.(session.Swapper), b.(session.Swapper)
	ctx := t.Context()
	key := Key(t, "swap")
	swap := func(s session.Swapper, old, data string, oldNil bool) bool {
		t.Helper()
		var o []byte
		if !oldNil {
			o = []byte(old)
		}
		ok, err := s.Swap(ctx, key, o, []byte(data), hour())
		if err != nil {
			t.Fatalf("Swap: %v", err)
		}
		return ok
	}
	if !swap(sa, "", "v1", true) {
		t.Fatal("Swap(old=nil) of a missing entry refused")
	}
	if swap(sb, "", "v1b", true) {
		t.Error("Swap(old=nil) of an existing entry accepted")
	}
	if swap(sb, "v0", "v2", false) {
		t.Error("Swap with a stale old accepted")
	}
	if !swap(sb, "v1", "v2", false) {
		t.Fatal("Swap with the current old refused")
	}
	if swap(sa, "v1", "v3", false) {
		t.Error("Swap with the old the other handle replaced accepted")
	}
	if got, _ := find(t, a, key); string(got) != "v2" {
		t.Errorf("after swaps: %q, want v2", got)
	}
	expired := Key(t, "expired")
	commit(t, a, expired, []byte("old"), time.Now().Add(-time.Minute))
	if ok, err := sa.Swap(ctx, expired, []byte("old"), []byte("new"), hour()); err != nil || ok {
		t.Errorf("Swap over an expired entry = %v, %v; want false (it is gone)", ok, err)
	}
	if ok, err := sa.Swap(ctx, expired, nil, []byte("new"), hour()); err != nil || !ok {
		t.Errorf("Swap(old=nil) over an expired entry = %v, %v; want true", ok, err)
	}

	// Concurrent increments with retry: none lost.
	const workers, rounds = 6, 8
	counter := Key(t, "counter")
	commit(t, a, counter, []byte("0"), hour())
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, sw := a, sa
			if w%2 == 1 {
				s, sw = b, sb
			}
			for range rounds {
				for try := 0; ; try++ {
					if try > 1000 {
						errs <- errors.New("no swap succeeded in 1000 tries")
						return
					}
					data, _, err := s.Find(ctx, counter)
					if err != nil {
						errs <- err
						return
					}
					n, _ := strconv.Atoi(string(data))
					ok, err := sw.Swap(ctx, counter, data, []byte(strconv.Itoa(n+1)), hour())
					if err != nil {
						errs <- err
						return
					}
					if ok {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, _ := find(t, a, counter)
	if want := strconv.Itoa(workers * rounds); string(got) != want {
		t.Errorf("counter after %d swapped increments = %s, want %s", workers*rounds, got, want)
	}
}
