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
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	attrs   string // "; Path=/; HttpOnly; SameSite=Lax"
	// nameIsToken is false for a cookie name net/http never reads.
	nameIsToken bool
	date        atomic.Pointer[httpDate]
}

// httpDate is a formatted Expires date, kept while requests in the same
// second need it again.
type httpDate struct {
	sec int64
	s   string
}

func (m *Manager) httpDate(sec int64) string {
	if d := m.date.Load(); d != nil && d.sec == sec {
		return d.s
	}
	d := &httpDate{sec, time.Unix(sec, 0).UTC().Format(http.TimeFormat)}
	m.date.Store(d)
	return d.s
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
	if !validCookieName(o.CookieName) {
		return nil, fmt.Errorf("session: invalid cookie name %q", o.CookieName)
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
	attrs, err := cookieAttrs(o)
	if err != nil {
		return nil, err
	}
	m := &Manager{o: o, log: o.Logger, attrs: attrs, nameIsToken: isToken(o.CookieName)}
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

func validCookieName(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || c == '=' || c == ';' || c == ',' || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}

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

// request is what the filter allocates per request, in one piece: the
// session, the writer that saves it, the context that carries it, and the
// backing of the header values the filter adds.
type request struct {
	s   Session
	w   writer
	ctx sessionCtx
}

// sessionCtx is context.WithValue(parent, sessionKey{}, s) without an
// allocation of its own.
type sessionCtx struct {
	context.Context
	s *Session
}

func (c *sessionCtx) Value(key any) any {
	if _, ok := key.(sessionKey); ok {
		return c.s
	}
	return c.Context.Value(key)
}

// Handler is the filter: it loads the request's session (see [From]),
// runs next, and saves the session before the response header goes out.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{}
		s, sw := &rq.s, &rq.w
		*sw = writer{ResponseWriter: w, s: s, r: r}
		sw.addHeader("Vary", 0, "Cookie")
		token := m.cookieToken(r)
		s.m, s.loaded = m, time.Now()
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
		rq.ctx = sessionCtx{r.Context(), s}
		var ctx context.Context = &rq.ctx
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

// maxCookies is net/http's default limit on the cookies of a request
// (GODEBUG httpcookiemaxnum): beyond it, Request.Cookie finds none.
const maxCookies = 3000

// cookieToken returns the token of the request's session cookie, or ""
// for none or an invalid one. It finds the cookie that
// r.Cookie(CookieName) would, without allocating.
func (m *Manager) cookieToken(r *http.Request) string {
	lines := r.Header["Cookie"]
	if len(lines) == 0 || !m.nameIsToken {
		return ""
	}
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	if n > maxCookies {
		return ""
	}
	for _, line := range lines {
		line = textproto.TrimString(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			name, val, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(name) != m.o.CookieName {
				continue
			}
			if len(val) > 1 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			if !validCookieValue(val) {
				continue // net/http skips it too, and may find a later one
			}
			if validToken(val) {
				return val
			}
			return ""
		}
	}
	return ""
}

func validCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 7230 token, as a cookie name that
// net/http reads must be.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
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
	m.log.Error("session store error", "op", op, "err", err, "method", r.Method, "path", r.URL.Path)
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
		s.created, s.timeText[0] = s.loaded.UTC(), nil
	}
	if s.deadline.IsZero() {
		s.deadline, s.timeText[1] = s.created.Add(m.o.Lifetime), nil
	}
	expiry := s.deadline
	if m.o.IdleTimeout > 0 {
		if ie := time.Now().Add(m.o.IdleTimeout).UTC(); ie.Before(expiry) {
			expiry = ie
		}
	}
	s.version++
	rec := Record{Format: Format, Created: s.created, Deadline: s.deadline, Version: s.version, User: s.user, Values: s.values}
	bp := encodeBuffers.Get().(*[]byte)
	data, err := rec.appendJSON((*bp)[:0], s.timeText)
	// Stores do not keep data (see [Store]): the buffer serves again.
	defer func() {
		if cap(data) <= maxPooledBuffer {
			*bp = data[:0]
			encodeBuffers.Put(bp)
		}
	}()
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
	// The session is frozen now: found serves no later save, and data
	// goes back to the pool.
	s.found, s.foundKey = nil, key
	s.status = unmodified
	m.writeCookie(sw, s.token, expiry)
	return true
}

// encodeBuffers holds the buffers records are encoded into before a store
// copies them; maxPooledBuffer bounds what goes back.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledBuffer = 64 << 10

func (m *Manager) writeCookie(w *writer, token string, expiry time.Time) {
	var buf [256]byte
	b := buf[:0]
	b = append(b, m.o.CookieName...)
	b = append(b, '=')
	b = append(b, token...)
	b = append(b, m.attrs...)
	if expiry.IsZero() {
		b = append(b, "; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0"...)
	} else {
		b = append(b, "; Expires="...)
		b = append(b, m.httpDate(expiry.Unix()+1)...)
		b = append(b, "; Max-Age="...)
		b = strconv.AppendInt(b, int64(time.Until(expiry).Seconds()+1), 10)
	}
	if m.o.Secure == SecureAlways || m.o.Secure == SecureAuto && w.r.TLS != nil {
		b = append(b, "; Secure"...)
	}
	w.addHeader("Set-Cookie", 1, string(b))
	w.addHeader("Cache-Control", 2, `no-cache="Set-Cookie"`)
}

// cookieAttrs returns the fixed attributes of the cookie, checking them.
func cookieAttrs(o Options) (string, error) {
	var b strings.Builder
	for _, c := range []byte(o.CookiePath) {
		if c < 0x20 || c >= 0x7f || c == ';' {
			return "", fmt.Errorf("session: invalid cookie path %q", o.CookiePath)
		}
	}
	b.WriteString("; Path=" + o.CookiePath)
	if d := o.CookieDomain; d != "" {
		for _, c := range []byte(strings.TrimPrefix(d, ".")) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
				return "", fmt.Errorf("session: invalid cookie domain %q", d)
			}
		}
		b.WriteString("; Domain=" + strings.TrimPrefix(d, "."))
	}
	if !o.ScriptAccess {
		b.WriteString("; HttpOnly")
	}
	switch o.SameSite {
	case http.SameSiteLaxMode:
		b.WriteString("; SameSite=Lax")
	case http.SameSiteStrictMode:
		b.WriteString("; SameSite=Strict")
	case http.SameSiteNoneMode:
		b.WriteString("; SameSite=None")
	}
	return b.String(), nil
}

// writer saves the session when the handler starts its response.
type writer struct {
	http.ResponseWriter
	s      *Session
	r      *http.Request
	done   bool
	failed bool
	hdr    [3]string // backs the header values the filter adds
}

// addHeader adds v to the header key, as Header.Add does, with hdr[i] as
// the slice's backing when the header is new (the common case).
func (w *writer) addHeader(key string, i int, v string) {
	h := w.ResponseWriter.Header()
	if old := h[key]; len(old) > 0 {
		h[key] = append(old, v)
		return
	}
	w.hdr[i] = v
	h[key] = w.hdr[i : i+1 : i+1]
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
