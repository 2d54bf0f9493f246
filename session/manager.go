package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gopaste/gopaste/auth"
)

// Lock says how the filter guards a session against concurrent requests.
type Lock int

const (
	// LockNone lets concurrent requests of one session run freely; the
	// last to save wins.
	LockNone Lock = iota
	// LockExclusive checks a session out for the whole request: a second
	// request of the same session waits until the first is done, in any
	// process sharing the store. The store must be a [Locker].
	LockExclusive
	// LockOptimistic lets requests run concurrently and refuses a save
	// based on a stale copy, answering Options.ConflictStatus. The store
	// must be a [Swapper].
	LockOptimistic
)

// SecureMode says when the cookie gets the Secure attribute.
type SecureMode int

const (
	SecureAuto   SecureMode = iota // when the request came over TLS
	SecureAlways                   // always
	SecureNever                    // never
)

// Options configure a [Manager]. Zero fields take the default named.
type Options struct {
	Store  Store        // required
	Logger *slog.Logger // nil means slog.Default()

	CookieName   string        // default "session"
	CookiePath   string        // default "/"
	CookieDomain string        // default none (the host that set it)
	Secure       SecureMode    // default SecureAuto
	ScriptAccess bool          // false (default) sets HttpOnly
	SameSite     http.SameSite // default http.SameSiteLaxMode

	// IdleTimeout ends a session not used for this long; zero means no
	// idle timeout. A session is saved on every request when it is set.
	IdleTimeout time.Duration
	// Lifetime is the absolute life of a session from its creation;
	// default 24h. RenewToken starts it again.
	Lifetime time.Duration

	Lock Lock // default LockNone
	// LockTimeout is how long a request waits for a session's exclusive
	// lock, and how long a lock lives when its holder died; default 30s.
	LockTimeout time.Duration
	// ConflictStatus answers a stale save under LockOptimistic; default 409.
	ConflictStatus int
	// ContinueOnStoreError serves a request whose session could not be
	// loaded (or saved) with a fresh session that is not saved, instead of
	// answering 503.
	ContinueOnStoreError bool
}

// Manager loads a session before a request and saves it after; it is the
// core of the "session" filter. It is safe for concurrent use.
type Manager struct {
	o       Options
	log     *slog.Logger
	locker  Locker
	swapper Swapper
}

// New checks o and returns a Manager.
func New(o Options) (*Manager, error) {
	if o.Store == nil {
		return nil, errors.New("session: no store")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CookieName == "" {
		o.CookieName = "session"
	}
	if o.CookiePath == "" {
		o.CookiePath = "/"
	}
	if o.SameSite == 0 {
		o.SameSite = http.SameSiteLaxMode
	}
	if o.Lifetime == 0 {
		o.Lifetime = 24 * time.Hour
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = 30 * time.Second
	}
	if o.ConflictStatus == 0 {
		o.ConflictStatus = http.StatusConflict
	}
	if o.ConflictStatus < 100 || o.ConflictStatus > 599 {
		return nil, fmt.Errorf("session: conflict status %d is not an HTTP status", o.ConflictStatus)
	}
	m := &Manager{o: o, log: o.Logger}
	c := m.cookie("", time.Time{}, false)
	if err := c.Valid(); err != nil {
		return nil, fmt.Errorf("session: cookie settings: %w", err)
	}
	switch o.Lock {
	case LockNone:
	case LockExclusive:
		l, ok := o.Store.(Locker)
		if !ok {
			return nil, fmt.Errorf("session: store %T cannot lock (lock = exclusive)", o.Store)
		}
		m.locker = l
	case LockOptimistic:
		s, ok := o.Store.(Swapper)
		if !ok {
			return nil, fmt.Errorf("session: store %T cannot compare and swap (lock = optimistic)", o.Store)
		}
		m.swapper = s
	default:
		return nil, fmt.Errorf("session: unknown lock mode %d", o.Lock)
	}
	return m, nil
}

// validCookieName reports whether net/http sends and reads a cookie of
// this name.
func validCookieName(s string) bool { return (&http.Cookie{Name: s}).Valid() == nil }

// tokenLen is the length of a token: 32 random bytes, base64url.
const tokenLen = 43

func newToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func validToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenByte[s[i]] {
			return false
		}
	}
	return true
}

// tokenByte tells the bytes of base64url.
var tokenByte = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
	}
	return t
}()

// StoreKey is what stores see: a hash of the token, so that whoever reads
// the store (or its file names, or its logs) cannot use it as a cookie.
func StoreKey(token string) string {
	var h [sha256.Size]byte
	if len(token) == tokenLen {
		var in [tokenLen]byte // on the stack, unlike []byte(token)
		copy(in[:], token)
		h = sha256.Sum256(in[:])
	} else {
		h = sha256.Sum256([]byte(token))
	}
	var out [43]byte // base64.RawURLEncoding.EncodedLen(sha256.Size)
	base64.RawURLEncoding.Encode(out[:], h[:])
	return string(out[:])
}

// errConflict is a stale save under LockOptimistic.
var errConflict = errors.New("session: changed by a concurrent request")

// errFailed is what Write returns once the filter has replaced the
// handler's response by an error.
var errFailed = errors.New("session: response replaced by a session error")

// Handler is the filter: it loads the request's session (see [From]),
// runs next, and saves the session before the response header goes out.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := &Session{m: m, loaded: time.Now()}
		sw := &writer{ResponseWriter: w, s: s, r: r}
		w.Header().Add("Vary", "Cookie")
		token := m.cookieToken(r)
		if token != "" {
			if m.locker != nil {
				unlock, err := m.lock(r.Context(), s.storeKey(token))
				if err != nil {
					if !m.storeError(w, r, "lock", err) {
						return
					}
					s.detached = true
					token = ""
				} else {
					defer unlock()
				}
			}
			if token != "" {
				if err := s.load(r.Context(), token); err != nil {
					if !m.storeError(w, r, "load", err) {
						return
					}
					s.detached = true
				}
			}
		}
		if s.values == nil {
			s.reset()
		}
		ctx := NewContext(r.Context(), s)
		// Keep the session's user and the authenticated user in step.
		if au := auth.User(ctx); au != "" && s.user == "" {
			// Inside an auth filter: the session learns its user. A
			// privilege change, so the token changes too (fixation).
			if err := s.RenewToken(ctx); err != nil {
				if !m.storeError(w, r, "renew", err) {
					return
				}
				s.detached = true
			}
			s.user = au
		} else if s.user != "" && au == "" {
			// Outside one: the session's user is the request's.
			ctx = auth.WithUser(ctx, s.user)
		}
		next.ServeHTTP(sw, r.WithContext(ctx))
		if !sw.done {
			sw.save()
		}
	})
}

// cookieToken returns the token of the request's session cookie, or ""
// for none or an invalid one.
func (m *Manager) cookieToken(r *http.Request) string {
	c, err := r.Cookie(m.o.CookieName)
	if err != nil || !validToken(c.Value) {
		return ""
	}
	return c.Value
}

// lock takes the session's exclusive lock, waiting at most LockTimeout.
func (m *Manager) lock(ctx context.Context, key string) (func(), error) {
	wctx, cancel := context.WithTimeout(ctx, m.o.LockTimeout)
	defer cancel()
	unlock, err := m.locker.Lock(wctx, key, m.o.LockTimeout)
	if err != nil {
		if ctx.Err() == nil && wctx.Err() != nil {
			err = fmt.Errorf("session: lock wait exceeded %v: %w", m.o.LockTimeout, err)
		}
		return nil, err
	}
	return func() {
		// The request may be cancelled; the lock must go anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := unlock(uctx); err != nil {
			m.log.Warn("session unlock", "err", err)
		}
	}, nil
}

// storeError logs a store failure and either answers 503 (returning
// false) or lets the request go on without a saved session.
func (m *Manager) storeError(w http.ResponseWriter, r *http.Request, op string, err error) (cont bool) {
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client went away; nothing for the store's operator to see.
		m.log.Debug("session store call cancelled with its request", "op", op, "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		return false
	}
	if m.o.ContinueOnStoreError {
		m.log.Warn("session store error, continuing without session", "op", op, "err", err, "method", r.Method, "path", r.URL.Path)
		return true
	}
	if errors.Is(err, ErrBusy) {
		// Overload, not a fault: the client may try again shortly.
		m.log.Warn("session store busy", "op", op, "method", r.Method, "path", r.URL.Path)
		w.Header().Set("Retry-After", "1")
	} else {
		m.log.Error("session store error", "op", op, "err", err, "method", r.Method, "path", r.URL.Path)
	}
	http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
	return false
}

// save writes a modified session to the store and the cookie to w, or
// expires the cookie of a destroyed one. It reports whether the response
// may go on; when not, it has answered an error itself.
func (m *Manager) save(sw *writer) bool {
	w, r, s := sw.ResponseWriter, sw.r, sw.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = true
	if s.detached {
		return true
	}
	switch s.status {
	case destroyed:
		m.writeCookie(sw, "", time.Time{})
		return true
	case modified:
	default:
		if !s.slide {
			return true
		}
	}
	// A save that only slides the idle expiry loses nothing when another
	// request saved meanwhile: that one slid it too.
	touchOnly := s.status == unmodified
	if s.token == "" {
		s.token = newToken()
		s.foundKey = ""
	}
	if s.created.IsZero() {
		s.created = s.loaded.UTC()
	}
	if s.deadline.IsZero() {
		s.deadline = s.created.Add(m.o.Lifetime)
	}
	expiry := s.deadline
	if m.o.IdleTimeout > 0 {
		if ie := time.Now().Add(m.o.IdleTimeout).UTC(); ie.Before(expiry) {
			expiry = ie
		}
	}
	s.version++
	rec := Record{Format: Format, Created: s.created, Deadline: s.deadline, Version: s.version, User: s.user, Values: s.values}
	data, err := rec.Encode()
	if err != nil { // values are marshalled by Put, so this is a bug
		m.log.Error("session encode", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return false
	}
	ctx := r.Context()
	key := s.storeKey(s.token)
	if m.swapper != nil && s.foundKey == key {
		var ok bool
		ok, err = m.swapper.Swap(ctx, key, s.found, data, expiry)
		if err == nil && !ok {
			err = errConflict
		}
	} else {
		err = m.o.Store.Commit(ctx, key, data, expiry)
	}
	if errors.Is(err, errConflict) && touchOnly {
		return true
	}
	if errors.Is(err, errConflict) {
		m.log.Info("session save refused: changed by a concurrent request", "method", r.Method, "path", r.URL.Path, "status", m.o.ConflictStatus)
		http.Error(w, http.StatusText(m.o.ConflictStatus), m.o.ConflictStatus)
		return false
	}
	if err != nil {
		return m.storeError(w, r, "save", err)
	}
	// The session is frozen now: found serves no later save.
	s.found, s.foundKey = nil, key
	s.status = unmodified
	m.writeCookie(sw, s.token, expiry)
	return true
}

// cookie returns the session cookie carrying token until expiry; the
// zero expiry deletes it.
func (m *Manager) cookie(token string, expiry time.Time, tls bool) http.Cookie {
	c := http.Cookie{
		Name:     m.o.CookieName,
		Value:    token,
		Path:     m.o.CookiePath,
		Domain:   m.o.CookieDomain,
		Secure:   m.o.Secure == SecureAlways || m.o.Secure == SecureAuto && tls,
		HttpOnly: !m.o.ScriptAccess,
		SameSite: m.o.SameSite,
	}
	if expiry.IsZero() {
		c.Expires, c.MaxAge = time.Unix(1, 0), -1
	} else {
		// Rounded up: the cookie outlives the stored session, never the
		// other way round.
		c.Expires = expiry.Add(time.Second).Truncate(time.Second)
		c.MaxAge = max(1, int(time.Until(expiry).Seconds()+1))
	}
	return c
}

func (m *Manager) writeCookie(w *writer, token string, expiry time.Time) {
	h := w.ResponseWriter.Header()
	c := m.cookie(token, expiry, w.r.TLS != nil)
	http.SetCookie(w.ResponseWriter, &c)
	// Shared caches must not hand the cookie to others. One Cache-Control
	// field: a handler's own directives are kept, and those that already
	// keep the response out of shared caches need nothing more.
	cc := h.Values("Cache-Control")
	if len(cc) == 0 {
		h.Set("Cache-Control", `no-cache="Set-Cookie"`)
		return
	}
	joined := strings.Join(cc, ", ")
	for d := range strings.SplitSeq(strings.ToLower(joined), ",") {
		d = strings.TrimSpace(d)
		if d == "no-store" || d == "private" || strings.HasPrefix(d, "no-cache=") && strings.Contains(d, "set-cookie") {
			if len(cc) > 1 {
				h.Set("Cache-Control", joined)
			}
			return
		}
	}
	h.Set("Cache-Control", joined+`, no-cache="Set-Cookie"`)
}

// writer saves the session when the handler starts its response.
type writer struct {
	http.ResponseWriter
	s      *Session
	r      *http.Request
	done   bool
	failed bool
}

func (w *writer) save() {
	if w.done {
		return
	}
	w.done = true
	w.failed = !w.s.m.save(w)
}

func (w *writer) WriteHeader(code int) {
	w.save()
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *writer) Write(b []byte) (int, error) {
	w.save()
	if w.failed {
		return 0, errFailed
	}
	return w.ResponseWriter.Write(b)
}

// FlushError saves the session before the header leaves with a flush.
func (w *writer) FlushError() error {
	w.save()
	if w.failed {
		return errFailed
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush is FlushError for callers that assert http.Flusher.
func (w *writer) Flush() { _ = w.FlushError() } // nothing to report to: Flusher has no error

func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
