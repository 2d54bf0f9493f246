// Package cache is a shared HTTP response cache in front of a handler, as
// RFC 9111 describes one.
//
// It stores responses to GET with a cacheable status (200, 203, 204, 300,
// 301, 308, 404, 405, 410, 414, 501) and a freshness lifetime: s-maxage,
// max-age or Expires, or [Options.DefaultTTL] when the response names
// none. It does not store responses marked no-store or private, responses
// that set a cookie, responses with Vary: *, answers to requests carrying
// Authorization unless the response allows it (public, s-maxage,
// must-revalidate), nor bodies larger than [Options.MaxEntryBytes].
//
// Stored responses are served while fresh, to GET and HEAD alike, with Age
// and X-Cache: HIT; a request whose If-None-Match or If-Modified-Since
// matches the stored ETag or Last-Modified gets 304 from the cache. Vary
// keeps one variant per set of values of the named request headers. A
// stale response that has an ETag or Last-Modified (kept for
// [Options.KeepStale] past its freshness) is revalidated with a
// conditional request to the handler; a 304 from the handler refreshes it.
// A response marked no-cache is stored but always revalidated.
//
// Requests may ask for a fresh answer (Cache-Control: no-cache, max-age=0,
// Pragma: no-cache), refuse storage (no-store), bound the age they accept
// (max-age) or ask only for a stored answer (only-if-cached, 504 on a
// miss). POST, PUT, PATCH and DELETE pass through and drop the stored
// answer for their URL.
//
// Concurrent misses of one URL run the handler once: the others wait for
// its response and share it when it is storable (single flight). Misses
// carry X-Cache: MISS. Streaming responses stay streaming: the cache tees
// the body it records.
//
// Entries live in a [Store]: [MemoryStore] (LRU bounded in bytes) or a
// [RedisStore], whose TTL is the entry's freshness.
package cache

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopaste/gopaste/mount"
)

// Options configure a [Cache]. Zero values mean the defaults named.
type Options struct {
	// Store keeps the entries; nil means a MemoryStore of 64 MiB.
	Store Store
	// MaxEntryBytes is the largest body stored; zero means 1 MiB.
	MaxEntryBytes int64
	// DefaultTTL is the freshness given to cacheable responses that name
	// none; zero means such responses are not stored.
	DefaultTTL time.Duration
	// KeepStale keeps entries with a validator (ETag or Last-Modified) this
	// long past their freshness, for revalidation; zero means not at all.
	KeepStale time.Duration
	// KeyPrefix starts every store key; empty means "gopaste:cache:".
	KeyPrefix string
	// Logger receives store failures; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Cache is the cache middleware. It is safe for concurrent use.
type Cache struct {
	store     Store
	maxEntry  int64
	defTTL    time.Duration
	keepStale time.Duration
	prefix    string
	log       *slog.Logger
	now       func() time.Time
	flights   flightGroup
}

// DefaultMaxBytes is the size of the memory store New makes when
// Options.Store is nil.
const DefaultMaxBytes = 64 << 20

// New returns a cache with the given options.
func New(o Options) *Cache {
	c := &Cache{
		store: o.Store, maxEntry: o.MaxEntryBytes, defTTL: o.DefaultTTL,
		keepStale: o.KeepStale, prefix: o.KeyPrefix, log: o.Logger, now: o.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.store == nil {
		c.store = NewMemoryStore(DefaultMaxBytes, c.now)
	}
	if c.maxEntry <= 0 {
		c.maxEntry = 1 << 20
	}
	if c.prefix == "" {
		c.prefix = "gopaste:cache:"
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c
}

// Wrap returns next behind the cache.
func (c *Cache) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.serve(next, w, r)
	})
}

var (
	hitValue  = []string{"HIT"}
	missValue = []string{"MISS"}
)

func (c *Cache) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		next.ServeHTTP(w, r)
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			// RFC 9111 §4.4: an unsafe method invalidates the stored answer.
			if err := c.store.Delete(ctx, c.key(r)); err != nil {
				c.log.Warn("cache store failed", "op", "delete", "err", err)
			}
		}
		return
	}
	rcc := parseCacheControl(r.Header["Cache-Control"])
	if _, ok := r.Header["Cache-Control"]; !ok && strings.Contains(strings.ToLower(r.Header.Get("Pragma")), "no-cache") {
		rcc.noCache = true
	}
	if rcc.noStore {
		w.Header()["X-Cache"] = missValue[:1:1]
		next.ServeHTTP(w, r)
		return
	}
	key := c.key(r)
	if !rcc.noCache && rcc.maxAge != 0 {
		if e, ok := c.lookup(ctx, key, r); ok {
			if age, ok := c.usable(e, rcc); ok {
				c.serveEntry(w, r, e, age)
				return
			}
			if !rcc.onlyIfCached && hasValidator(e.Header) && !conditional(r) {
				c.revalidate(next, w, r, key, e)
				return
			}
		}
	}
	if rcc.onlyIfCached {
		w.Header()["X-Cache"] = missValue[:1:1]
		http.Error(w, "504 Gateway Timeout: not in cache", http.StatusGatewayTimeout)
		return
	}
	c.fetch(next, w, r, key, rcc)
}

// usable reports whether e is fresh enough for a request with directives
// rcc, and its age.
func (c *Cache) usable(e *Entry, rcc directives) (time.Duration, bool) {
	if rcc.noCache || rcc.maxAge == 0 {
		return 0, false
	}
	now := c.now()
	age := now.Sub(e.Stored) + e.InitialAge
	return age, now.Before(e.FreshUntil) && (rcc.maxAge < 0 || age <= time.Duration(rcc.maxAge)*time.Second)
}

// key names the URL of r in the store: scheme, host, mount prefix, path
// and query.
func (c *Cache) key(r *http.Request) string {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return c.prefix + scheme + r.Host + mount.ScriptName(r.Context()) + r.URL.RequestURI()
}

// lookup finds the stored answer for r, following a Vary marker to the
// variant r selects.
func (c *Cache) lookup(ctx context.Context, key string, r *http.Request) (*Entry, bool) {
	e, ok, err := c.store.Get(ctx, key)
	if err != nil {
		c.log.Warn("cache store failed", "op", "get", "err", err)
		return nil, false
	}
	if ok && e.Status == 0 {
		if len(e.Vary) == 0 {
			return nil, false
		}
		sel := selector(e.Vary, r)
		e, ok, err = c.store.Get(ctx, key+"\x00"+sel)
		if err != nil {
			c.log.Warn("cache store failed", "op", "get", "err", err)
			return nil, false
		}
		if ok {
			// The selector is not stored; a flight's waiters compare
			// theirs with it when the leader found the entry here.
			e.varyKey = sel
		}
	}
	if !ok || e.Status == 0 {
		return nil, false
	}
	return e, true
}

// put stores e under key, with a Vary marker when e varies.
func (c *Cache) put(ctx context.Context, key string, e *Entry, ttl time.Duration) {
	var err error
	if len(e.Vary) == 0 {
		err = c.store.Set(ctx, key, e, ttl)
	} else {
		marker := &Entry{Vary: e.Vary, Stored: e.Stored, FreshUntil: e.FreshUntil}
		if err = c.store.Set(ctx, key, marker, ttl); err == nil {
			err = c.store.Set(ctx, key+"\x00"+e.varyKey, e, ttl)
		}
	}
	if err != nil {
		c.log.Warn("cache store failed", "op", "set", "err", err)
	}
}

// selector names the variant r selects among responses varying on names.
func selector(names []string, r *http.Request) string {
	if len(names) == 1 {
		return names[0] + "=" + strings.Join(r.Header.Values(names[0]), ",")
	}
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(strings.Join(r.Header.Values(n), ","))
	}
	return b.String()
}

// parseVary returns the canonical header names of Vary, and false for
// Vary: *.
func parseVary(h http.Header) ([]string, bool) {
	var names []string
	for _, line := range h["Vary"] {
		for _, f := range strings.Split(line, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if f == "*" {
				return nil, false
			}
			names = append(names, http.CanonicalHeaderKey(f))
		}
	}
	return names, true
}

func hasValidator(h http.Header) bool {
	return h.Get("ETag") != "" || h.Get("Last-Modified") != ""
}

func conditional(r *http.Request) bool {
	for _, k := range []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"} {
		if _, ok := r.Header[k]; ok {
			return true
		}
	}
	return false
}

// serveEntry writes a stored answer, or 304 when r's validators match it.
func (c *Cache) serveEntry(w http.ResponseWriter, r *http.Request, e *Entry, age time.Duration) {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v[:len(v):len(v)] // shared: an append must copy
	}
	if age < 0 {
		age = 0
	}
	h["Age"] = []string{strconv.FormatInt(int64(age/time.Second), 10)}
	h["X-Cache"] = hitValue[:1:1]
	if e.Status == http.StatusOK && notModified(r, e.Header) {
		delete(h, "Content-Type")
		delete(h, "Content-Length")
		delete(h, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead && len(e.Body) > 0 {
		w.Write(e.Body) // a client gone is nothing to report
	}
}

// notModified evaluates If-None-Match, else If-Modified-Since, against a
// stored header (RFC 9110 §13.2.2).
func notModified(r *http.Request, h http.Header) bool {
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		etag := h.Get("ETag")
		return etag != "" && etagMatch(strings.Join(inm, ","), etag)
	}
	ims := r.Header.Get("If-Modified-Since")
	lm := h.Get("Last-Modified")
	if ims == "" || lm == "" {
		return false
	}
	it, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	lt, err := http.ParseTime(lm)
	if err != nil {
		return false
	}
	return !lt.After(it)
}

// etagMatch reports whether the If-None-Match list matches etag by weak
// comparison (RFC 9110 §8.8.3.2).
func etagMatch(list, etag string) bool {
	etag = strings.TrimPrefix(strings.TrimSpace(etag), "W/")
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		if list[0] == '*' {
			return true
		}
		list = strings.TrimPrefix(list, "W/")
		if !strings.HasPrefix(list, `"`) {
			// Not an entity-tag: skip to the next comma.
			i := strings.IndexByte(list, ',')
			if i < 0 {
				return false
			}
			list = list[i+1:]
			continue
		}
		end := strings.IndexByte(list[1:], '"')
		if end < 0 {
			return false
		}
		if list[:end+2] == etag {
			return true
		}
		list = list[end+2:]
	}
}

// fetch runs the handler for a miss, once for concurrent misses of key.
func (c *Cache) fetch(next http.Handler, w http.ResponseWriter, r *http.Request, key string, rcc directives) {
	fk := r.Method + " " + key
	f, leader := c.flights.join(fk)
	if !leader {
		select {
		case <-f.done:
		case <-r.Context().Done():
			return
		}
		if e := f.entry; e != nil && (len(e.Vary) == 0 || selector(e.Vary, r) == e.varyKey) {
			c.serveEntry(w, r, e, c.now().Sub(e.Stored)+e.InitialAge)
			return
		}
		c.miss(next, w, r, key)
		return
	}
	var e *Entry
	defer func() { c.flights.finish(fk, f, e) }() // also on panic: the others fetch for themselves
	// A flight that ended between our lookup and join may have stored it.
	if se, ok := c.lookup(r.Context(), key, r); ok {
		if age, ok := c.usable(se, rcc); ok {
			e = se
			c.serveEntry(w, r, e, age)
			return
		}
	}
	e = c.miss(next, w, r, key)
}

// miss runs the handler, teeing its response to the client, and stores it
// when it may.
func (c *Cache) miss(next http.Handler, w http.ResponseWriter, r *http.Request, key string) *Entry {
	rec := &recorder{w: w, h: make(http.Header), limit: c.maxEntry}
	next.ServeHTTP(rec, r)
	rec.finish()
	e, ttl := c.entryFrom(r, rec)
	if e != nil {
		c.put(r.Context(), key, e, ttl)
	}
	return e
}

// revalidate asks the handler whether the stale entry old still holds: a
// 304 refreshes it, anything else replaces it.
func (c *Cache) revalidate(next http.Handler, w http.ResponseWriter, r *http.Request, key string, old *Entry) {
	r2 := r.Clone(r.Context())
	if etag := old.Header.Get("ETag"); etag != "" {
		r2.Header.Set("If-None-Match", etag)
	}
	if lm := old.Header.Get("Last-Modified"); lm != "" {
		r2.Header.Set("If-Modified-Since", lm)
	}
	rec := &recorder{w: w, h: make(http.Header), limit: c.maxEntry, intercept: true}
	next.ServeHTTP(rec, r2)
	if rec.held {
		c.refresh(w, r, key, old, rec.snap)
		return
	}
	rec.finish()
	if e, ttl := c.entryFrom(r2, rec); e != nil {
		c.put(r.Context(), key, e, ttl)
	}
}

// refresh merges a handler's 304 into the stale entry old (RFC 9111
// §4.3.4), stores the result and serves it to r.
func (c *Cache) refresh(w http.ResponseWriter, r *http.Request, key string, old *Entry, h304 http.Header) {
	h := old.Header.Clone()
	for k, v := range h304 {
		switch k {
		case "Content-Length", "Content-Type", "Content-Encoding", "X-Cache":
			continue
		}
		h[k] = v
	}
	stripHopByHop(h)
	now := c.now()
	e := &Entry{Status: old.Status, Header: h, Body: old.Body, Stored: now, Vary: old.Vary}
	if len(e.Vary) > 0 {
		e.varyKey = selector(e.Vary, r)
	}
	ttl, ok := c.freshness(r, e, h)
	delete(h, "Age")
	if ok {
		c.put(r.Context(), key, e, ttl)
	} else if err := c.store.Delete(r.Context(), key); err != nil {
		c.log.Warn("cache store failed", "op", "delete", "err", err)
	}
	c.serveEntry(w, r, e, e.InitialAge)
}

// freshness fills e's FreshUntil and InitialAge from header h and returns
// the store TTL, or false when h forbids storing.
func (c *Cache) freshness(r *http.Request, e *Entry, h http.Header) (time.Duration, bool) {
	d := parseCacheControl(h["Cache-Control"])
	if d.noStore || d.private {
		return 0, false
	}
	if _, ok := h["Set-Cookie"]; ok {
		return 0, false
	}
	if _, ok := r.Header["Authorization"]; ok && !d.public && d.sMaxAge < 0 && !d.mustRevalidate {
		return 0, false
	}
	lt, explicit := lifetime(h, d, e.Stored)
	if !explicit {
		lt = c.defTTL
	}
	if d.noCache {
		lt = 0
	}
	e.InitialAge = initialAge(h)
	fresh := lt - e.InitialAge
	e.FreshUntil = e.Stored.Add(fresh)
	ttl := fresh
	if hasValidator(h) {
		ttl += c.keepStale
	}
	return ttl, ttl > 0
}

// entryFrom builds the entry to store from a recorded response, or nil
// when it may not be stored.
func (c *Cache) entryFrom(r *http.Request, rec *recorder) (*Entry, time.Duration) {
	if r.Method != http.MethodGet || rec.hijacked || rec.over || rec.snap == nil {
		return nil, 0
	}
	h := rec.snap
	vary, ok := parseVary(h)
	if !ok {
		return nil, 0
	}
	if rec.status == http.StatusNoContent {
		if len(rec.buf) > 0 {
			return nil, 0
		}
	} else if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n != int64(len(rec.buf)) {
			return nil, 0 // a short or HEAD-like body: not the whole answer
		}
	} else {
		h.Set("Content-Length", strconv.Itoa(len(rec.buf)))
	}
	stripHopByHop(h)
	delete(h, "X-Cache")
	e := &Entry{Status: rec.status, Header: h, Body: rec.buf, Stored: c.now(), Vary: vary}
	if len(vary) > 0 {
		e.varyKey = selector(vary, r)
	}
	ttl, ok := c.freshness(r, e, h) // reads the backend's Age
	delete(h, "Age")
	if !ok {
		return nil, 0
	}
	return e, ttl
}

var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func stripHopByHop(h http.Header) {
	for _, f := range h["Connection"] {
		for _, k := range strings.Split(f, ",") {
			if k = strings.TrimSpace(k); k != "" {
				delete(h, http.CanonicalHeaderKey(k))
			}
		}
	}
	for _, k := range hopByHop {
		delete(h, k)
	}
}

// flightGroup lets one request per key run the handler while the others
// wait for its entry.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done    chan struct{}
	entry   *Entry // what the leader stored; nil when nothing may be shared
	waiters int    // guarded by flightGroup.mu
}

// join returns the flight for key and whether the caller leads it.
func (g *flightGroup) join(key string) (*flight, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.m[key]; ok {
		f.waiters++
		return f, false
	}
	if g.m == nil {
		g.m = make(map[string]*flight)
	}
	f := &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// finish publishes the leader's entry and releases the waiters.
func (g *flightGroup) finish(key string, f *flight, e *Entry) {
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
	f.entry = e
	close(f.done)
}
