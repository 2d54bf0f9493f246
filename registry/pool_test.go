package registry_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/gopaste/gopaste/registry"
)

type counter struct {
	n      int
	closed int
}

func (c *counter) Close() error { c.closed++; return nil }

// build is one generation: a config of section in file asking for its
// shared counter; closing the returned closers discards the generation.
func build(t *testing.T, p *registry.Pool, file, section string, made *int) (*counter, func()) {
	t.Helper()
	c := registry.NewConfig(registry.Filter, section, file+":1", file, nil, nil, nil, nil)
	c.Pool = p
	v, err := registry.Shared(c, "counter", func() (*counter, error) { *made++; return &counter{}, nil })
	if err != nil {
		t.Fatal(err)
	}
	return v, func() {
		for _, cl := range c.Closers() {
			if err := cl.Close(); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestSharedAcrossGenerations(t *testing.T) {
	p := new(registry.Pool)
	made := 0
	v1, close1 := build(t, p, "site.ini", "filter:limit", &made)
	v1.n = 7
	v2, close2 := build(t, p, "site.ini", "filter:limit", &made) // the reload
	close1()                                                     // the old generation goes idle
	if v2 != v1 || v2.n != 7 || made != 1 {
		t.Errorf("reload got a new value (same %v, n %d, made %d)", v2 == v1, v2.n, made)
	}
	if v1.closed != 0 {
		t.Errorf("closed while the new generation uses it")
	}
	other, closeOther := build(t, p, "site.ini", "filter:other", &made)
	if other == v1 {
		t.Error("two sections share a value")
	}
	elsewhere, closeElsewhere := build(t, p, "other.ini", "filter:limit", &made)
	if elsewhere == v1 {
		t.Error("the same section of two files shares a value")
	}
	close2()
	if v1.closed != 1 {
		t.Errorf("last release closed the value %d times, want 1", v1.closed)
	}
	close2() // releasing twice does nothing
	if v1.closed != 1 {
		t.Errorf("second release closed again")
	}
	closeOther()
	closeElsewhere()
	if p.Len() != 0 {
		t.Errorf("pool keeps %d values after every build closed", p.Len())
	}
	v3, close3 := build(t, p, "site.ini", "filter:limit", &made)
	defer close3()
	if v3 == v1 || v3.n != 0 {
		t.Error("a value closed by its last user came back")
	}
}

func TestSharedWithoutPoolLastsOneBuild(t *testing.T) {
	made := 0
	v1, close1 := build(t, nil, "site.ini", "filter:limit", &made)
	v2, close2 := build(t, nil, "site.ini", "filter:limit", &made)
	if v1 == v2 {
		t.Error("builds without a pool share a value")
	}
	close1()
	close2()
	if v1.closed != 1 || v2.closed != 1 {
		t.Errorf("closed %d and %d times, want 1 each", v1.closed, v2.closed)
	}
}

func TestSharedErrorKeepsNothing(t *testing.T) {
	p := new(registry.Pool)
	c := registry.NewConfig(registry.Filter, "filter:x", "t.ini:1", "t.ini", nil, nil, nil, nil)
	c.Pool = p
	boom := errors.New("boom")
	if _, err := registry.Shared(c, "v", func() (*counter, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if p.Len() != 0 || len(c.Closers()) != 0 {
		t.Errorf("a failed value is kept (%d) or released later (%d closers)", p.Len(), len(c.Closers()))
	}
	v, err := registry.Shared(c, "v", func() (*counter, error) { return &counter{n: 1}, nil })
	if err != nil || v.n != 1 {
		t.Errorf("after a failure Shared = %v, %v; want a new value", v, err)
	}
}

func TestSharedOtherType(t *testing.T) {
	c := registry.NewConfig(registry.Filter, "filter:x", "t.ini:1", "t.ini", nil, nil, nil, nil)
	c.Pool = new(registry.Pool)
	registry.Shared(c, "v", func() (*counter, error) { return &counter{}, nil })
	if _, err := registry.Shared(c, "v", func() (string, error) { return "", nil }); err == nil {
		t.Error("a value of another type under the same key is not an error")
	}
}

// TestPoolConcurrentAcquire: callers racing for one key get one value,
// made once.
func TestPoolConcurrentAcquire(t *testing.T) {
	p := new(registry.Pool)
	var mu sync.Mutex
	made := 0
	var wg sync.WaitGroup
	vals := make([]any, 8)
	rels := make([]func() error, 8)
	for i := range vals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, rel, err := p.Acquire("k", func() (any, error) {
				mu.Lock()
				made++
				mu.Unlock()
				return &counter{}, nil
			})
			if err != nil {
				t.Error(err)
			}
			vals[i], rels[i] = v, rel
		}()
	}
	wg.Wait()
	if made != 1 {
		t.Errorf("made %d values, want 1", made)
	}
	for i, v := range vals {
		if v != vals[0] {
			t.Errorf("caller %d got another value", i)
		}
	}
	for _, rel := range rels {
		rel()
	}
	if c := vals[0].(*counter); c.closed != 1 {
		t.Errorf("closed %d times, want 1", c.closed)
	}
}
