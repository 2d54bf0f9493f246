package cache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/internal/wiretest"
	"github.com/gopaste/gopaste/middleware/lint"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// backend is a handler that counts its runs and answers with header h and
// a body naming the run.
type backend struct {
	runs   atomic.Int64
	header map[string]string
	status int
	fn     func(w http.ResponseWriter, r *http.Request) bool // true: handled
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := b.runs.Add(1)
	if b.fn != nil && b.fn(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	for k, v := range b.header {
		w.Header().Set(k, v)
	}
	if b.status != 0 {
		w.WriteHeader(b.status)
	}
	fmt.Fprintf(w, "run %d", n)
}

type fixture struct {
	t     *testing.T
	clock *clock
	be    *backend
	h     http.Handler
	store *MemoryStore
	c     *Cache
}

func newFixture(t *testing.T, be *backend, o Options) *fixture {
	f := &fixture{t: t, clock: newClock(), be: be}
	if o.Store == nil {
		f.store = NewMemoryStore(1<<20, f.clock.Now)
		o.Store = f.store
	}
	o.Now = f.clock.Now
	// lint watches the cache's own writes to the client.
	f.c = New(o)
	f.h = lint.Wrap(t, f.c.Wrap(be))
	return f
}

func (f *fixture) do(method, target string, hdr ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func (f *fixture) expect(w *httptest.ResponseRecorder, status int, xcache, body string) {
	f.t.Helper()
	if w.Code != status || w.Header().Get("X-Cache") != xcache || w.Body.String() != body {
		f.t.Errorf("got %d X-Cache=%q body %q; want %d X-Cache=%q body %q",
			w.Code, w.Header().Get("X-Cache"), w.Body, status, xcache, body)
	}
}

func TestHitMiss(t *testing.T) {
	f := newFixture(t, &backend{header: map[string]string{"Cache-Control": "max-age=60"}}, Options{})
	f.expect(f.do("GET", "/a"), 200, "MISS", "run 1")
	w := f.do("GET", "/a")
	f.expect(w, 200, "HIT", "run 1")
	if w.Header().Get("Content-Length") != "5" || w.Header().Get("Content-Type") != "text/plain" {
		t.Errorf("hit header = %v", w.Header())
	}
	f.clock.Advance(30 * time.Second)
	w = f.do("GET", "/a")
	f.expect(w, 200, "HIT", "run 1")
	if got := w.Header().Get("Age"); got != "30" {
		t.Errorf("Age = %q, want 30", got)
	}
	f.expect(f.do("GET", "/a?x=1"), 200, "MISS", "run 2")
	f.clock.Advance(31 * time.Second)
	f.expect(f.do("GET", "/a"), 200, "MISS", "run 3")
	f.expect(f.do("GET", "/a"), 200, "HIT", "run 3")
}

func TestStorable(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		status int
		opts   Options
		req    []string // request header pairs
		stored bool
	}{
		{name: "max-age", header: map[string]string{"Cache-Control": "max-age=10"}, stored: true},
		{name: "s-maxage", header: map[string]string{"Cache-Control": "s-maxage=10"}, stored: true},
		{name: "s-maxage=0 beats max-age", header: map[string]string{"Cache-Control": "max-age=60, s-maxage=0"}},
		{name: "expires", header: map[string]string{"Date": "Fri, 02 Jan 2026 03:04:05 GMT", "Expires": "Fri, 02 Jan 2026 03:05:05 GMT"}, stored: true},
		{name: "expires in the past", header: map[string]string{"Date": "Fri, 02 Jan 2026 03:04:05 GMT", "Expires": "Fri, 02 Jan 2026 03:00:00 GMT"}},
		{name: "expires garbage", header: map[string]string{"Expires": "0"}},
		{name: "no freshness", header: nil},
		{name: "default ttl", header: nil, opts: Options{DefaultTTL: time.Minute}, stored: true},
		{name: "no-store", header: map[string]string{"Cache-Control": "no-store, max-age=60"}},
		{name: "private", header: map[string]string{"Cache-Control": "private, max-age=60"}},
		{name: "private with field", header: map[string]string{"Cache-Control": `private="Set-Cookie, X", max-age=60`}},
		{name: "no-cache without validator", header: map[string]string{"Cache-Control": "no-cache, max-age=60"}},
		{name: "set-cookie", header: map[string]string{"Cache-Control": "max-age=60", "Set-Cookie": "a=b"}},
		{name: "vary star", header: map[string]string{"Cache-Control": "max-age=60", "Vary": "*"}},
		{name: "uncacheable status", header: map[string]string{"Cache-Control": "max-age=60"}, status: 500},
		{name: "404 cacheable", header: map[string]string{"Cache-Control": "max-age=60"}, status: 404, stored: true},
		{name: "authorization", header: map[string]string{"Cache-Control": "max-age=60"}, req: []string{"Authorization", "Basic eDp5"}},
		{name: "authorization public", header: map[string]string{"Cache-Control": "public, max-age=60"}, req: []string{"Authorization", "Basic eDp5"}, stored: true},
		{name: "request no-store", header: map[string]string{"Cache-Control": "max-age=60"}, req: []string{"Cache-Control", "no-store"}},
		{name: "age eats freshness", header: map[string]string{"Cache-Control": "max-age=60", "Age": "60"}},
		{name: "too big", header: map[string]string{"Cache-Control": "max-age=60"}, opts: Options{MaxEntryBytes: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, &backend{header: tt.header, status: tt.status}, tt.opts)
			f.do("GET", "/", tt.req...)
			f.do("GET", "/", tt.req...)
			runs := f.be.runs.Load()
			if got := runs == 1; got != tt.stored {
				t.Errorf("stored = %v (backend ran %d times), want %v", got, runs, tt.stored)
			}
		})
	}
}

func TestVary(t *testing.T) {
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "accept-language")
		io.WriteString(w, "lang="+r.Header.Get("Accept-Language"))
		return true
	}}
	f := newFixture(t, be, Options{})
	f.expect(f.do("GET", "/", "Accept-Language", "fr"), 200, "MISS", "lang=fr")
	f.expect(f.do("GET", "/", "Accept-Language", "de"), 200, "MISS", "lang=de")
	f.expect(f.do("GET", "/", "Accept-Language", "fr"), 200, "HIT", "lang=fr")
	f.expect(f.do("GET", "/", "Accept-Language", "de"), 200, "HIT", "lang=de")
	f.expect(f.do("GET", "/"), 200, "MISS", "lang=")
	if n := be.runs.Load(); n != 3 {
		t.Errorf("backend ran %d times, want 3", n)
	}
}

func TestConditionalFromCache(t *testing.T) {
	lm := "Fri, 02 Jan 2026 00:00:00 GMT"
	f := newFixture(t, &backend{header: map[string]string{
		"Cache-Control": "max-age=60", "ETag": `"v1"`, "Last-Modified": lm,
	}}, Options{})
	f.do("GET", "/")
	tests := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"etag match", []string{"If-None-Match", `"v1"`}, 304},
		{"weak etag match", []string{"If-None-Match", `W/"v1"`}, 304},
		{"etag in list", []string{"If-None-Match", `"a,b", "v1"`}, 304},
		{"star", []string{"If-None-Match", `*`}, 304},
		{"etag mismatch", []string{"If-None-Match", `"v2"`}, 200},
		{"etag mismatch wins over ims", []string{"If-None-Match", `"v2"`, "If-Modified-Since", lm}, 200},
		{"ims equal", []string{"If-Modified-Since", lm}, 304},
		{"ims later", []string{"If-Modified-Since", "Sat, 03 Jan 2026 00:00:00 GMT"}, 304},
		{"ims earlier", []string{"If-Modified-Since", "Thu, 01 Jan 2026 00:00:00 GMT"}, 200},
		{"ims garbage", []string{"If-Modified-Since", "yesterday"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("GET", "/", tt.hdr...)
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.status == 304 && (w.Body.Len() != 0 || w.Header().Get("ETag") != `"v1"` || w.Header().Get("Content-Length") != "") {
				t.Errorf("304 body %q header %v", w.Body, w.Header())
			}
			if w.Header().Get("X-Cache") != "HIT" {
				t.Errorf("X-Cache = %q", w.Header().Get("X-Cache"))
			}
		})
	}
	if n := f.be.runs.Load(); n != 1 {
		t.Errorf("backend ran %d times, want 1", n)
	}
}

func TestHead(t *testing.T) {
	f := newFixture(t, &backend{header: map[string]string{"Cache-Control": "max-age=60"}}, Options{})
	f.do("GET", "/")
	w := f.do("HEAD", "/")
	f.expect(w, 200, "HIT", "")
	if w.Header().Get("Content-Length") != "5" {
		t.Errorf("HEAD Content-Length = %q", w.Header().Get("Content-Length"))
	}
	// A HEAD miss is not stored as the GET answer.
	f2 := newFixture(t, &backend{header: map[string]string{"Cache-Control": "max-age=60"},
		fn: func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == "HEAD" {
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Content-Type", "text/plain")
				return true
			}
			return false
		}}, Options{})
	f2.do("HEAD", "/")
	f2.expect(f2.do("GET", "/"), 200, "MISS", "run 2")
}

func TestUnsafeMethodInvalidates(t *testing.T) {
	f := newFixture(t, &backend{header: map[string]string{"Cache-Control": "max-age=60"}}, Options{})
	f.do("GET", "/p")
	f.expect(f.do("GET", "/p"), 200, "HIT", "run 1")
	w := f.do("POST", "/p")
	if w.Header().Get("X-Cache") != "" || w.Body.String() != "run 2" {
		t.Errorf("POST: X-Cache %q body %q", w.Header().Get("X-Cache"), w.Body)
	}
	f.expect(f.do("GET", "/p"), 200, "MISS", "run 3")
}

func TestRequestDirectives(t *testing.T) {
	f := newFixture(t, &backend{header: map[string]string{"Cache-Control": "max-age=60"}}, Options{})
	f.expect(f.do("GET", "/", "Cache-Control", "only-if-cached"), 504, "MISS", "504 Gateway Timeout: not in cache\n")
	f.do("GET", "/")
	f.expect(f.do("GET", "/", "Cache-Control", "only-if-cached"), 200, "HIT", "run 1")
	f.expect(f.do("GET", "/", "Cache-Control", "no-cache"), 200, "MISS", "run 2")
	f.expect(f.do("GET", "/"), 200, "HIT", "run 2")
	f.expect(f.do("GET", "/", "Pragma", "no-cache"), 200, "MISS", "run 3")
	f.expect(f.do("GET", "/", "Cache-Control", "max-age=0"), 200, "MISS", "run 4")
	f.clock.Advance(20 * time.Second)
	f.expect(f.do("GET", "/", "Cache-Control", "max-age=30"), 200, "HIT", "run 4")
	f.expect(f.do("GET", "/", "Cache-Control", "max-age=10"), 200, "MISS", "run 5")
}

func TestRevalidate(t *testing.T) {
	etag := `"e1"`
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
		return false
	}}
	f := newFixture(t, be, Options{KeepStale: time.Hour})
	f.expect(f.do("GET", "/"), 200, "MISS", "run 1")
	f.clock.Advance(11 * time.Second)
	w := f.do("GET", "/")
	f.expect(w, 200, "HIT", "run 1") // backend said 304
	if be.runs.Load() != 2 {
		t.Errorf("backend ran %d times, want 2", be.runs.Load())
	}
	f.expect(f.do("GET", "/"), 200, "HIT", "run 1") // fresh again
	if be.runs.Load() != 2 {
		t.Errorf("backend ran %d times after refresh, want 2", be.runs.Load())
	}
	etag = `"e2"`
	f.clock.Advance(11 * time.Second)
	f.expect(f.do("GET", "/"), 200, "MISS", "run 3") // changed: full answer
	f.expect(f.do("GET", "/"), 200, "HIT", "run 3")
}

func TestNoCacheResponseAlwaysRevalidates(t *testing.T) {
	be := &backend{fn: func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", `"x"`)
		if r.Header.Get("If-None-Match") == `"x"` {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
		return false
	}}
	f := newFixture(t, be, Options{KeepStale: time.Minute})
	f.expect(f.do("GET", "/"), 200, "MISS", "run 1")
	f.expect(f.do("GET", "/"), 200, "HIT", "run 1")
	f.expect(f.do("GET", "/"), 200, "HIT", "run 1")
	if be.runs.Load() != 3 {
		t.Errorf("backend ran %d times, want 3 (one fetch, two revalidations)", be.runs.Load())
	}
}

func TestSingleFlight(t *testing.T) {
	release := make(chan struct{})
	be := &backend{header: map[string]string{"Cache-Control": "max-age=60"}}
	be.fn = func(w http.ResponseWriter, r *http.Request) bool {
		<-release
		return false
	}
	f := newFixture(t, be, Options{})
	const n = 20
	var wg sync.WaitGroup
	results := make([]*httptest.ResponseRecorder, n)
	started := make(chan struct{}, n)
	for i := range n {
		wg.Go(func() {
			started <- struct{}{}
			results[i] = f.do("GET", "/slow")
		})
	}
	for range n {
		<-started
	}
	// All but the leader wait on its flight before the backend answers.
	waitFor(t, func() bool { return f.c.waiting("GET", "http://example.com/slow") == n-1 })
	close(release)
	wg.Wait()
	if got := be.runs.Load(); got != 1 {
		t.Errorf("backend ran %d times for %d concurrent requests, want 1", got, n)
	}
	misses := 0
	for _, w := range results {
		if w.Body.String() != "run 1" || w.Code != 200 {
			t.Errorf("response %d %q", w.Code, w.Body)
		}
		if w.Header().Get("X-Cache") == "MISS" {
			misses++
		}
	}
	if misses != 1 {
		t.Errorf("%d responses were MISS, want 1", misses)
	}
}

func TestSingleFlightNotShared(t *testing.T) {
	// A private answer is not handed to the waiters: each fetches its own.
	release := make(chan struct{})
	var entered atomic.Int64
	be := &backend{header: map[string]string{"Cache-Control": "private, max-age=60"}}
	be.fn = func(w http.ResponseWriter, r *http.Request) bool {
		if entered.Add(1) == 1 {
			<-release
		}
		return false
	}
	c := New(Options{})
	h := c.Wrap(be)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) })
	}
	waitFor(t, func() bool { return c.waiting("GET", "http://example.com/") == 2 })
	close(release)
	wg.Wait()
	if got := be.runs.Load(); got != 3 {
		t.Errorf("backend ran %d times, want 3", got)
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// waiting returns how many requests wait on the flight for method and url.
func (c *Cache) waiting(method, url string) int {
	c.flights.mu.Lock()
	defer c.flights.mu.Unlock()
	if f, ok := c.flights.m[method+" "+c.prefix+url]; ok {
		return f.waiters
	}
	return -1
}

// TestStreaming: a flushed response reaches the client as it comes, and
// is stored whole once it ends.
func TestStreaming(t *testing.T) {
	c := New(Options{})
	resp := wiretest.StreamsWith(t, c.Wrap, "/", wiretest.StreamOptions{
		ResponseHeader: http.Header{"Cache-Control": {"max-age=60"}, "Content-Type": {"text/plain"}},
	})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", resp.Request.URL.String(), nil)
	c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the handler ran again: the streamed response was not stored")
	})).ServeHTTP(rec, req)
	if body := rec.Body.String(); body != wiretest.StreamFirst+wiretest.StreamRest || rec.Header().Get("X-Cache") != "HIT" {
		t.Errorf("second: %q %q", rec.Header().Get("X-Cache"), body)
	}
}

func TestMemoryStoreLRU(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := NewMemoryStore(1000, clk.Now)
	mk := func(n int) *Entry { return &Entry{Status: 200, Body: make([]byte, n)} }
	s.Set(ctx, "a", mk(300), time.Minute)
	s.Set(ctx, "b", mk(300), time.Minute)
	s.Get(ctx, "a") // a is now the most recent
	s.Set(ctx, "c", mk(300), time.Minute)
	if _, ok, _ := s.Get(ctx, "b"); ok {
		t.Error("b survived; it was the least recently used")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok, _ := s.Get(ctx, k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	if _, used := s.Len(); used > 1000 {
		t.Errorf("used %d > 1000", used)
	}
	s.Set(ctx, "huge", mk(5000), time.Minute)
	if _, ok, _ := s.Get(ctx, "huge"); ok {
		t.Error("an entry larger than the store was kept")
	}
	clk.Advance(time.Minute)
	if _, ok, _ := s.Get(ctx, "a"); ok {
		t.Error("expired entry returned")
	}
	s.Delete(ctx, "c")
	if n, used := s.Len(); n != 0 || used != 0 {
		t.Errorf("Len = %d, %d after expiry and delete", n, used)
	}
}

func TestEntryRoundTrip(t *testing.T) {
	e := &Entry{
		Status: 200, Header: http.Header{"Content-Type": {"text/html"}, "X-Multi": {"a", "b"}},
		Body: []byte("hello"), Stored: time.Unix(100, 5), FreshUntil: time.Unix(160, 0),
		InitialAge: 3 * time.Second, Vary: []string{"Accept-Encoding"},
	}
	got, err := UnmarshalEntry(MarshalEntry(e))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != e.Status || string(got.Body) != "hello" || !got.Stored.Equal(e.Stored) ||
		!got.FreshUntil.Equal(e.FreshUntil) || got.InitialAge != e.InitialAge ||
		strings.Join(got.Header["X-Multi"], ",") != "a,b" || got.Vary[0] != "Accept-Encoding" {
		t.Errorf("round trip: %+v", got)
	}
	for _, bad := range []string{"", "GPC1", "XXXX\x00", "GPC1\xff\xff\xff"} {
		if _, err := UnmarshalEntry([]byte(bad)); err != ErrCorrupt {
			t.Errorf("UnmarshalEntry(%q) err = %v, want ErrCorrupt", bad, err)
		}
	}
}

func TestParseCacheControl(t *testing.T) {
	d := parseCacheControl([]string{`max-age=30, private="a, b", no-cache`, "S-MAXAGE=\"5\", must-revalidate"})
	if d.maxAge != 30 || d.sMaxAge != 5 || !d.private || !d.noCache || !d.mustRevalidate || d.noStore || d.public {
		t.Errorf("got %+v", d)
	}
	if d := parseCacheControl([]string{"max-age=abc"}); d.maxAge != 0 {
		t.Errorf("bad max-age = %d, want 0", d.maxAge)
	}
	if d := parseCacheControl([]string{"max-age=99999999999999999999"}); d.maxAge != maxSeconds {
		t.Errorf("huge max-age = %d", d.maxAge)
	}
}

// encodingStore keeps entries encoded, as the Redis store does, so what
// Get returns is a new Entry each time.
type encodingStore struct{ m sync.Map }

func (s *encodingStore) Get(_ context.Context, key string) (*Entry, bool, error) {
	b, ok := s.m.Load(key)
	if !ok {
		return nil, false, nil
	}
	e, err := UnmarshalEntry(b.([]byte))
	return e, err == nil, err
}

func (s *encodingStore) Set(_ context.Context, key string, e *Entry, _ time.Duration) error {
	s.m.Store(key, MarshalEntry(e))
	return nil
}

func (s *encodingStore) Delete(_ context.Context, key string) error {
	s.m.Delete(key)
	return nil
}

func TestLookupVariantFromEncodingStore(t *testing.T) {
	// A flight's leader that finds the entry in the store (filled by
	// another instance, or by the flight before) hands it to its waiters,
	// which take it only when it is their variant: an entry read back
	// from an encoding store must say which variant it is, or every
	// waiter runs the handler (seen as TestRedisFilter's flake).
	c := New(Options{Store: &encodingStore{}})
	r := httptest.NewRequest("GET", "/v", nil)
	r.Header.Set("Accept", "text/html")
	e := &Entry{Status: 200, Body: []byte("x"), Vary: []string{"Accept"},
		Stored: time.Now(), FreshUntil: time.Now().Add(time.Minute)}
	e.varyKey = selector(e.Vary, r)
	c.put(r.Context(), "k", e, time.Minute)
	got, ok := c.lookup(r.Context(), "k", r)
	if !ok {
		t.Fatal("the variant stored is not found")
	}
	if got.varyKey != selector(got.Vary, r) {
		t.Errorf("varyKey %q, want %q", got.varyKey, selector(got.Vary, r))
	}
}
