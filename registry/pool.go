package registry

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// Pool keeps the values parts share across builds of a config, so that
// state such as memory sessions, a memory cache or rate-limit counters
// outlives a reload. It is the one mechanism for such state: the serve
// loop makes one Pool, hands it to every build (deploy puts it in
// [Config.Pool]), and a part asks for its value with [Shared].
//
// A value is counted once per build that asked for it. Reloading builds
// the new generation first (the value is found, not made: two users),
// then closes the old one (one user left); the value is closed, when it
// is an io.Closer, once the last build that used it is closed. This is
// the shape of Caddy's UsagePool.
//
// The zero Pool is ready to use. A Pool is safe for concurrent use.
type Pool struct {
	mu      sync.Mutex
	entries map[string]*poolEntry
}

var errNoValue = errors.New("registry: shared value's constructor panicked")

type poolEntry struct {
	users int
	ready chan struct{} // closed once value and err are set
	value any
	err   error
}

// Acquire returns the value kept under key, making it with newValue when
// no build holds one, and counts one more user. release drops that user;
// the last release removes the value and closes it if it is an io.Closer,
// returning Close's error. Calling release again does nothing.
//
// Callers asking for the same key while newValue runs wait for it and
// share its result; an error is returned to each of them and nothing is
// kept, so a later Acquire tries again.
func (p *Pool) Acquire(key string, newValue func() (any, error)) (value any, release func() error, err error) {
	p.mu.Lock()
	if p.entries == nil {
		p.entries = make(map[string]*poolEntry)
	}
	e, found := p.entries[key]
	if !found {
		e = &poolEntry{ready: make(chan struct{})}
		p.entries[key] = e
	}
	e.users++
	p.mu.Unlock()

	if !found {
		func() {
			defer close(e.ready) // waiters must not hang if newValue panics
			e.err = errNoValue
			e.value, e.err = newValue()
		}()
		if e.err != nil {
			p.mu.Lock()
			delete(p.entries, key) // e is still the entry: users > 0
			p.mu.Unlock()
		}
	} else {
		<-e.ready
	}
	if e.err != nil {
		p.drop(key, e)
		return nil, nil, e.err
	}
	var once sync.Once
	release = func() error {
		var err error
		once.Do(func() { err = p.drop(key, e) })
		return err
	}
	return e.value, release, nil
}

// drop removes one user of e and closes its value after the last.
func (p *Pool) drop(key string, e *poolEntry) error {
	p.mu.Lock()
	e.users--
	last := e.users == 0
	if last && p.entries[key] == e {
		delete(p.entries, key)
	}
	p.mu.Unlock()
	if last && e.err == nil {
		if c, ok := e.value.(io.Closer); ok {
			return c.Close()
		}
	}
	return nil
}

// Len returns how many values the pool keeps.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// Shared returns the value c's section keeps under name across reloads,
// made by newValue the first time (or after every build that used it was
// closed). The value is keyed by the section (its file and header) and
// name, so two sections never share one, and a part that shapes its
// value with settings should put them into name ("memory 1000 64M"):
// after a reload that changes them the part gets a fresh value, and the
// old one is closed with the old generation.
//
// Shared registers the release with [Config.OnClose], so deploy drops
// the value's user when it discards the build. Without a pool
// ([Config.Pool] is nil, as in "gopaste check" and tests) the value lives
// as long as the one build. A value of another type under the same key is
// an error (a part changed what it keeps under name).
func Shared[T any](c *Config, name string, newValue func() (T, error)) (T, error) {
	p := c.Pool
	if p == nil {
		p = new(Pool)
	}
	key := c.File + "\x00" + c.Section + "\x00" + name
	v, release, err := p.Acquire(key, func() (any, error) { return newValue() })
	if err != nil {
		var zero T
		return zero, err
	}
	c.OnClose(closerFunc(release))
	t, ok := v.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("registry: [%s] shared %q holds a %T, not a %T", c.Section, name, v, zero)
	}
	return t, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
