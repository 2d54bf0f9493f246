package session_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopaste/gopaste/auth"
	"github.com/gopaste/gopaste/internal/logbuf"
	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/memstore"
)

// flaky is a store that fails while down is set.
type flaky struct {
	session.Store
	down atomic.Bool
}

var errDown = errors.New("connection refused")

func (f *flaky) Find(ctx context.Context, key string) ([]byte, bool, error) {
	if f.down.Load() {
		return nil, false, errDown
	}
	return f.Store.Find(ctx, key)
}

func (f *flaky) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Commit(ctx, key, data, expiry)
}

func newMem(t *testing.T) *memstore.Store {
	s := memstore.New(memstore.Options{CleanupInterval: -1})
	t.Cleanup(func() { s.Close() })
	return s
}

func newManager(t *testing.T, o session.Options) (*session.Manager, *logbuf.Buffer) {
	t.Helper()
	logs := &logbuf.Buffer{}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.Store == nil {
		o.Store = newMem(t)
	}
	m, err := session.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return m, logs
}

// client keeps the session cookie between requests, as a browser would.
type client struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
}

func (c *client) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	c.t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	if c.cookie != nil {
		r.AddCookie(c.cookie)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			c.cookie = nil
		} else {
			c.cookie = ck
		}
	}
	return w
}

type info struct {
	Visits  int    `json:"visits"`
	User    string `json:"user"`
	Created string `json:"created"`
}

func (c *client) info() info {
	c.t.Helper()
	w := c.do("GET", "/", nil)
	if w.Code != 200 {
		c.t.Fatalf("GET / = %d %s", w.Code, w.Body)
	}
	var in info
	if err := json.Unmarshal(w.Body.Bytes(), &in); err != nil {
		c.t.Fatalf("GET / body %q: %v", w.Body, err)
	}
	return in
}

func TestVisitsLoginLogout(t *testing.T) {
	store := newMem(t)
	m, logs := newManager(t, session.Options{Store: store})
	c := &client{t: t, h: m.Handler(session.Info{})}
	for want := 1; want <= 3; want++ {
		if got := c.info(); got.Visits != want || got.User != "" {
			t.Fatalf("visit %d: %+v", want, got)
		}
	}
	first := c.cookie.Value
	if w := c.do("POST", "/login", url.Values{"user": {"bob"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("POST /login = %d", w.Code)
	}
	if c.cookie.Value == first {
		t.Error("login did not renew the token")
	}
	if _, found, _ := store.Find(t.Context(), session.StoreKey(first)); found {
		t.Error("the pre-login session is still in the store")
	}
	if got := c.info(); got.Visits != 4 || got.User != "bob" {
		t.Errorf("after login: %+v, want visits 4, user bob", got)
	}
	// The old token does not reach the logged-in session (fixation).
	old := &client{t: t, h: c.h, cookie: &http.Cookie{Name: "session", Value: first}}
	if got := old.info(); got.User != "" || got.Visits != 1 {
		t.Errorf("old token after login: %+v, want a fresh session", got)
	}
	loggedIn := c.cookie.Value
	if w := c.do("POST", "/logout", url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("POST /logout = %d", w.Code)
	}
	if c.cookie != nil {
		t.Error("logout did not expire the cookie")
	}
	if _, found, _ := store.Find(t.Context(), session.StoreKey(loggedIn)); found {
		t.Error("the destroyed session is still in the store")
	}
	if got := c.info(); got.Visits != 1 || got.User != "" {
		t.Errorf("after logout: %+v, want a fresh session", got)
	}
	if strings.Contains(logs.String(), first) || strings.Contains(logs.String(), loggedIn) {
		t.Error("a session token appears in the log")
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    session.Options
		tls  bool
		want []string
		not  []string
	}{
		{"defaults", session.Options{}, false,
			[]string{"session=", "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=86400"}, []string{"Secure", "Domain"}},
		{"auto secure over TLS", session.Options{}, true, []string{"Secure"}, nil},
		{"never secure", session.Options{Secure: session.SecureNever}, true, nil, []string{"Secure"}},
		{"always secure", session.Options{Secure: session.SecureAlways}, false, []string{"Secure"}, nil},
		{"custom", session.Options{CookieName: "sid", CookiePath: "/app", CookieDomain: "example.org",
			ScriptAccess: true, SameSite: http.SameSiteStrictMode, Lifetime: time.Hour}, false,
			[]string{"sid=", "Path=/app", "Domain=example.org", "SameSite=Strict", "Max-Age=3600"}, []string{"HttpOnly"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newManager(t, tc.o)
			r := httptest.NewRequest("GET", "/", nil)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			m.Handler(session.Info{}).ServeHTTP(w, r)
			sc := w.Header().Get("Set-Cookie")
			for _, s := range tc.want {
				if !strings.Contains(sc, s) {
					t.Errorf("Set-Cookie %q lacks %q", sc, s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(sc, s) {
					t.Errorf("Set-Cookie %q has %q", sc, s)
				}
			}
		})
	}
}

func TestUntouchedSessionIsNotSaved(t *testing.T) {
	store := newMem(t)
	m, _ := newManager(t, session.Options{Store: store})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if session.From(r.Context()) == nil {
			t.Error("From = nil inside the filter")
		}
		w.Write([]byte("ok"))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if sc := w.Header().Get("Set-Cookie"); sc != "" {
		t.Errorf("Set-Cookie %q for a session never touched", sc)
	}
	if n := store.Len(); n != 0 {
		t.Errorf("store holds %d entries, want 0", n)
	}
}

func TestBadCookiesStartFreshSessions(t *testing.T) {
	store := newMem(t)
	m, logs := newManager(t, session.Options{Store: store})
	h := m.Handler(session.Info{})
	corrupt := strings.Repeat("A", 43)
	store.Commit(t.Context(), session.StoreKey(corrupt), []byte("{not json"), time.Now().Add(time.Hour))
	for _, v := range []string{"short", strings.Repeat("!", 43), corrupt, strings.Repeat("B", 43)} {
		c := &client{t: t, h: h, cookie: &http.Cookie{Name: "session", Value: v}}
		if got := c.info(); got.Visits != 1 {
			t.Errorf("cookie %q: visits %d, want 1 (a fresh session)", v, got.Visits)
		}
		if c.cookie == nil || c.cookie.Value == v {
			t.Errorf("cookie %q: not replaced by a new token", v)
		}
	}
	if !strings.Contains(logs.String(), "session data unreadable") {
		t.Errorf("corrupt data not reported; log:\n%s", logs)
	}
}

func TestLifetimeAndIdleTimeout(t *testing.T) {
	store := newMem(t)
	m, _ := newManager(t, session.Options{Store: store, IdleTimeout: time.Minute, Lifetime: time.Hour})
	c := &client{t: t, h: m.Handler(session.Info{})}
	c.info()
	if c.cookie.MaxAge > 61 || c.cookie.MaxAge < 59 {
		t.Errorf("Max-Age with a 1m idle timeout = %d", c.cookie.MaxAge)
	}
	// A record past its deadline is a new session even if the store kept it.
	rec := session.Record{Created: time.Now().Add(-2 * time.Hour), Deadline: time.Now().Add(-time.Hour), Version: 1}
	data, _ := rec.Encode()
	store.Commit(t.Context(), session.StoreKey(c.cookie.Value), data, time.Now().Add(time.Hour))
	if got := c.info(); got.Visits != 1 {
		t.Errorf("visits after the deadline = %d, want 1", got.Visits)
	}
	// With an idle timeout, a read-only request still slides the expiry.
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c.cookie)
	h.ServeHTTP(w, r)
	if w.Header().Get("Set-Cookie") == "" {
		t.Error("idle timeout: a request that only read the session did not refresh it")
	}
}

func TestStoreDown(t *testing.T) {
	for _, cont := range []bool{false, true} {
		t.Run("continue="+strconv.FormatBool(cont), func(t *testing.T) {
			store := &flaky{Store: newMem(t)}
			m, logs := newManager(t, session.Options{Store: store, ContinueOnStoreError: cont})
			c := &client{t: t, h: m.Handler(session.Info{})}
			c.info()
			c.info()
			store.down.Store(true)
			w := c.do("GET", "/", nil)
			if cont {
				if w.Code != 200 {
					t.Errorf("store down, continue: %d, want 200", w.Code)
				}
			} else if w.Code != http.StatusServiceUnavailable {
				t.Errorf("store down: %d, want 503", w.Code)
			}
			if !strings.Contains(logs.String(), "connection refused") {
				t.Errorf("the reason is not logged:\n%s", logs)
			}
			// A new visitor cannot be saved either.
			nc := &client{t: t, h: c.h}
			w = nc.do("GET", "/", nil)
			if !cont && w.Code != http.StatusServiceUnavailable || cont && w.Code != 200 {
				t.Errorf("new visitor, store down: %d", w.Code)
			}
			store.down.Store(false)
			if got := c.info(); got.Visits != 3 {
				t.Errorf("after recovery: visits %d, want 3 (the failed visit not counted)", got.Visits)
			}
		})
	}
}

func TestExclusiveLockTwoManagers(t *testing.T) {
	store := newMem(t) // shared, as by two processes on one machine
	var hs []http.Handler
	for range 2 {
		m, _ := newManager(t, session.Options{Store: store, Lock: session.LockExclusive})
		hs = append(hs, m.Handler(session.Info{}))
	}
	c := &client{t: t, h: hs[0]}
	c.info()
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest("GET", "/", nil)
			r.AddCookie(c.cookie)
			w := httptest.NewRecorder()
			hs[i%2].ServeHTTP(w, r)
			if w.Code != 200 {
				t.Errorf("concurrent GET = %d", w.Code)
			}
		}()
	}
	wg.Wait()
	if got := c.info(); got.Visits != n+2 {
		t.Errorf("visits after %d concurrent increments = %d, want %d", n, got.Visits, n+2)
	}
}

func TestOptimisticConflict(t *testing.T) {
	store := newMem(t)
	m, _ := newManager(t, session.Options{Store: store, Lock: session.LockOptimistic, ConflictStatus: 412})
	loaded := make(chan struct{})
	release := make(chan struct{})
	slow := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		n := s.GetInt("visits")
		loaded <- struct{}{}
		<-release
		s.Put("visits", n+1)
	}))
	c := &client{t: t, h: m.Handler(session.Info{})}
	c.info()
	w1 := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(c.cookie)
		slow.ServeHTTP(w1, r)
		close(done)
	}()
	<-loaded
	c.info() // a second request saves in between
	close(release)
	<-done
	if w1.Code != 412 {
		t.Errorf("stale save answered %d, want the conflict status 412", w1.Code)
	}
	if got := c.info(); got.Visits != 3 {
		t.Errorf("visits = %d, want 3 (the stale write lost, the others kept)", got.Visits)
	}
}

func TestPutAfterResponseStarted(t *testing.T) {
	m, _ := newManager(t, session.Options{})
	var errAfter error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		s.Put("a", 1)
		http.NewResponseController(w).Flush()
		errAfter = s.Put("b", 2)
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Header().Get("Set-Cookie") == "" {
		t.Error("Flush did not save the session first")
	}
	if !errors.Is(errAfter, session.ErrSaved) {
		t.Errorf("Put after the response started: %v, want ErrSaved", errAfter)
	}
}

func TestTypedValues(t *testing.T) {
	store := newMem(t)
	m, _ := newManager(t, session.Options{Store: store})
	when := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	type pt struct{ X, Y int }
	set := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		for k, v := range map[string]any{"s": "str", "i": 42, "f": 1.5, "b": true, "t": when, "p": pt{1, 2}, "gone": 1} {
			if err := s.Put(k, v); err != nil {
				t.Error(err)
			}
		}
		s.Delete("gone")
		if err := s.Put("bad", make(chan int)); err == nil {
			t.Error("Put of a channel: no error")
		}
		s.SetUser("ann")
	}))
	c := &client{t: t, h: set}
	c.do("GET", "/", nil)
	c.h = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		var p pt
		found, err := s.Get("p", &p)
		if s.GetString("s") != "str" || s.GetInt("i") != 42 || s.GetInt64("i") != 42 || s.GetFloat("f") != 1.5 ||
			!s.GetBool("b") || !s.GetTime("t").Equal(when) || !found || err != nil || p != (pt{1, 2}) || s.User() != "ann" {
			t.Errorf("values read back wrong: keys %v p %v user %q", s.Keys(), p, s.User())
		}
		if got := strings.Join(s.Keys(), ","); got != "b,f,i,p,s,t" {
			t.Errorf("Keys = %s", got)
		}
		if s.GetInt("s") != 0 || s.GetString("missing") != "" {
			t.Error("a getter of the wrong type or a missing key is not the zero value")
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "session", s)
		if !strings.Contains(buf.String(), "user=ann") || strings.Contains(buf.String(), c.cookie.Value) {
			t.Errorf("LogValue = %s", buf.String())
		}
	}))
	c.do("GET", "/", nil)
	// The stored record is the documented JSON.
	data, _, _ := store.Find(t.Context(), session.StoreKey(c.cookie.Value))
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["format"] != 1.0 || raw["user"] != "ann" || raw["version"] != 1.0 || raw["values"].(map[string]any)["s"] != "str" {
		t.Errorf("stored record %s", data)
	}
}

func TestNewRefusesStoresWithoutAbilities(t *testing.T) {
	plain := struct{ session.Store }{newMem(t)}
	for _, l := range []session.Lock{session.LockExclusive, session.LockOptimistic} {
		if _, err := session.New(session.Options{Store: plain, Lock: l}); err == nil {
			t.Errorf("lock %d on a plain store: no error", l)
		}
	}
	if _, err := session.New(session.Options{}); err == nil {
		t.Error("no store: no error")
	}
	if _, err := session.New(session.Options{Store: plain, CookieName: "a b"}); err == nil {
		t.Error("bad cookie name: no error")
	}
}

func sessionInfo() http.Handler { return session.Info{} }

func TestInfoMethodsAndMount(t *testing.T) {
	m, _ := newManager(t, session.Options{})
	h := m.Handler(session.Info{})
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/", "", 405},
		{"POST", "/login", "", 400},
		{"POST", "/elsewhere", "", 405},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, w.Code, tc.want)
		}
	}
}

func TestAuthUserInStep(t *testing.T) {
	store := newMem(t)
	m, _ := newManager(t, session.Options{Store: store})
	var seen string
	inner := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = auth.User(r.Context())
		session.Info{}.ServeHTTP(w, r)
	}))
	// Inside an auth filter: the session takes the authenticated user and
	// a new token.
	c := &client{t: t, h: inner}
	c.info()
	before := c.cookie.Value
	c.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), "carol")))
	})
	if got := c.info(); got.User != "carol" || got.Visits != 2 {
		t.Errorf("inside auth: %+v, want user carol, visit 2", got)
	}
	if c.cookie.Value == before {
		t.Error("taking the authenticated user did not renew the token")
	}
	// Outside one (no auth user on the request): the session's user is
	// handed on as the authenticated user.
	c.h = inner
	seen = ""
	if got := c.info(); got.User != "carol" || seen != "carol" {
		t.Errorf("outside auth: session user %q, auth.User %q; want carol for both", got.User, seen)
	}
}

func TestOptimisticIdleSlideIsNoConflict(t *testing.T) {
	store := newMem(t)
	m, _ := newManager(t, session.Options{Store: store, Lock: session.LockOptimistic, IdleTimeout: time.Hour})
	loaded := make(chan struct{})
	release := make(chan struct{})
	reader := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.From(r.Context()).GetInt("visits") // reads only
		loaded <- struct{}{}
		<-release
	}))
	c := &client{t: t, h: m.Handler(session.Info{})}
	c.info()
	w1 := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(c.cookie)
		reader.ServeHTTP(w1, r)
		close(done)
	}()
	<-loaded
	c.info()
	close(release)
	<-done
	if w1.Code != 200 {
		t.Errorf("a read-only request overtaken by a write answered %d, want 200", w1.Code)
	}
	if got := c.info(); got.Visits != 3 {
		t.Errorf("visits = %d, want 3", got.Visits)
	}
}

func TestClientGoneIsNoStoreError(t *testing.T) {
	store := newMem(t)
	m, logs := newManager(t, session.Options{Store: store, Lock: session.LockExclusive})
	c := &client{t: t, h: m.Handler(session.Info{})}
	c.info()
	unlock, err := store.Lock(t.Context(), session.StoreKey(c.cookie.Value), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(t.Context())
	ctx, cancel := context.WithCancel(t.Context())
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	r.AddCookie(c.cookie)
	w := httptest.NewRecorder()
	time.AfterFunc(50*time.Millisecond, cancel) // the client gives up while waiting
	c.h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a cancelled request was logged as a store error:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "cancelled with its request") {
		t.Errorf("no debug record:\n%s", logs)
	}
}

// watched is a store that remembers what Find handed out, with a copy.
type watched struct {
	session.Store
	mu    sync.Mutex
	given [][2][]byte
}

func (s *watched) Find(ctx context.Context, key string) ([]byte, bool, error) {
	data, found, err := s.Store.Find(ctx, key)
	s.mu.Lock()
	s.given = append(s.given, [2][]byte{data, bytes.Clone(data)})
	s.mu.Unlock()
	return data, found, err
}

// TestFilterLeavesFoundDataAlone: the filter never writes to the bytes
// Find returns (the memory store hands over its own); many keys and
// values survive the round trips.
func TestFilterLeavesFoundDataAlone(t *testing.T) {
	for _, lock := range []session.Lock{session.LockNone, session.LockOptimistic} {
		st := &watched{Store: newMem(t)}
		var store session.Store = st
		if lock == session.LockOptimistic {
			store = swapWatched{st}
		}
		m, _ := newManager(t, session.Options{Store: store, Lock: lock})
		c := &client{t: t, h: m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := session.From(r.Context())
			n := s.GetInt("n")
			for i := 0; i < 20; i++ { // more keys than the encoder sorts on its stack
				k := "k" + strconv.Itoa(i)
				if got := s.GetInt(k); got != n*i {
					t.Errorf("request %d: %s = %d, want %d", n, k, got, n*i)
				}
				s.Put(k, (n+1)*i)
			}
			s.Put("n", n+1)
			s.Put("s", strings.Repeat("x", n))
		}))}
		for i := 0; i < 5; i++ {
			if w := c.do("GET", "/", nil); w.Code != 200 {
				t.Fatalf("lock %d: GET = %d", lock, w.Code)
			}
		}
		st.mu.Lock()
		for i, g := range st.given {
			if !bytes.Equal(g[0], g[1]) {
				t.Errorf("lock %d: data of Find %d changed:\n%s\nwas\n%s", lock, i, g[0], g[1])
			}
		}
		if len(st.given) != 4 {
			t.Errorf("lock %d: %d Finds, want 4", lock, len(st.given))
		}
		st.mu.Unlock()
	}
}

type swapWatched struct{ *watched }

func (s swapWatched) Swap(ctx context.Context, key string, old, data []byte, expiry time.Time) (bool, error) {
	return s.Store.(session.Swapper).Swap(ctx, key, old, data, expiry)
}

// TestOneCacheControl (issue 13): a saved session makes the response
// uncacheable for shared caches in the one Cache-Control field the
// handler set, or in a field of its own; never in a second field.
func TestOneCacheControl(t *testing.T) {
	for _, tt := range []struct{ set, want string }{
		{"", `no-cache="Set-Cookie"`},
		{"no-store", "no-store"},
		{"private, max-age=60", "private, max-age=60"},
		{"max-age=60", `max-age=60, no-cache="Set-Cookie"`},
		{`no-cache="Set-Cookie"`, `no-cache="Set-Cookie"`},
	} {
		m, _ := newManager(t, session.Options{})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			session.From(r.Context()).Put("n", 1)
			if tt.set != "" {
				w.Header().Set("Cache-Control", tt.set)
			}
			w.Write([]byte("ok"))
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if got := w.Header()["Cache-Control"]; len(got) != 1 || got[0] != tt.want {
			t.Errorf("handler's Cache-Control %q: response has %q, want [%q]", tt.set, got, tt.want)
		}
	}
	// The session_info app (the demo's /session/) sets no-store itself.
	m, _ := newManager(t, session.Options{})
	c := &client{t: t, h: m.Handler(session.Info{})}
	if got := c.do("GET", "/", nil).Header()["Cache-Control"]; len(got) != 1 || got[0] != "no-store" {
		t.Errorf("session_info: Cache-Control %q, want [no-store]", got)
	}
}

// TestSetCookieLine: the cookie net/http writes for the filter's
// settings, and the one that deletes it.
func TestSetCookieLine(t *testing.T) {
	m, _ := newManager(t, session.Options{CookieName: "sid", CookiePath: "/app", CookieDomain: ".example.org",
		Secure: session.SecureAlways, SameSite: http.SameSiteStrictMode, Lifetime: time.Hour})
	c := &client{t: t, h: m.Handler(session.Info{})}
	sc := c.do("GET", "/", nil).Header().Get("Set-Cookie")
	re := regexp.MustCompile(`^sid=[A-Za-z0-9_-]{43}; Path=/app; Domain=example.org; Expires=[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT; Max-Age=(3600|3601); HttpOnly; Secure; SameSite=Strict$`)
	if !re.MatchString(sc) {
		t.Errorf("Set-Cookie = %q", sc)
	}
	sc = c.do("POST", "/logout", url.Values{}).Header().Get("Set-Cookie")
	if want := "sid=; Path=/app; Domain=example.org; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Strict"; sc != want {
		t.Errorf("Set-Cookie after logout = %q, want %q", sc, want)
	}
	if _, err := session.New(session.Options{Store: newMem(t), CookiePath: "/a;b"}); err == nil {
		t.Error("New accepted a cookie path with ';'")
	}
}

// A login or logout POSTed by a browser from another origin is refused:
// another site cannot log a visitor in as someone else, or out. A
// same-origin form and a client that sends neither header pass.
func TestInfoRefusesCrossOriginPosts(t *testing.T) {
	m, _ := newManager(t, session.Options{Store: newMem(t)})
	h := m.Handler(session.Info{})
	post := func(path string, hdr map[string]string) int {
		r := httptest.NewRequest("POST", "http://example.org"+path, strings.NewReader("user=mallory"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, path := range []string{"/login", "/logout"} {
		for _, tc := range []struct {
			hdr  map[string]string
			want int
		}{
			{map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
			{map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
			{map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
			{map[string]string{"Origin": "http://example.org"}, http.StatusSeeOther},
			{nil, http.StatusSeeOther},
		} {
			if got := post(path, tc.hdr); got != tc.want {
				t.Errorf("POST %s with %v = %d, want %d", path, tc.hdr, got, tc.want)
			}
		}
	}
}
