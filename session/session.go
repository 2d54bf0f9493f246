package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type status int

const (
	unmodified status = iota
	modified
	destroyed
)

type sessionKey struct{}

// From returns the session of the request whose context is ctx, or nil
// outside the session filter.
func From(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// NewContext returns ctx carrying s, for tests of handlers that call From.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// NewDetached returns an empty session that is never saved, for tests of
// handlers (with [NewContext]) and code running outside the filter.
func NewDetached() *Session {
	s := &Session{loaded: time.Now(), detached: true}
	s.reset()
	return s
}

// Session is one user's session during one request: values by key, the
// user, and the calls that change its identity. It is safe for
// concurrent use by the goroutines of one request.
//
// Changes are saved when the handler starts its response (its first
// WriteHeader, Write or Flush), or when it returns without writing;
// changes made after that are not saved and Put returns [ErrSaved].
//
// The token, which the cookie carries, is not available: it never appears
// in logs ([Session.LogValue] leaves it out) nor in stores (they see a
// hash of it).
type Session struct {
	m        *Manager
	mu       sync.Mutex
	token    string // "" for a session not saved yet
	key      string // StoreKey(keyToken), cached
	keyToken string
	foundKey string // store key the data below was found (or saved) under
	found    []byte // the stored bytes, for LockOptimistic
	loaded   time.Time
	created  time.Time
	deadline time.Time
	version  int64
	user     string
	values   map[string]json.RawMessage
	status   status
	slide    bool // idle timeout: save even when unchanged
	detached bool // a store error left the request without a saved session
	frozen   bool // saved already; further changes are refused
}

// ErrSaved is returned by the setters once the session has been saved
// for this request (the response had started).
var ErrSaved = errors.New("session: already saved for this request")

// storeKey returns StoreKey(token), computing it once per token.
func (s *Session) storeKey(token string) string {
	if s.keyToken != token || s.key == "" {
		s.key, s.keyToken = StoreKey(token), token
	}
	return s.key
}

func (s *Session) reset() {
	s.token, s.foundKey, s.found = "", "", nil
	s.created, s.deadline, s.version, s.user = time.Time{}, time.Time{}, 0, ""
	s.values = map[string]json.RawMessage{}
}

// load reads the session of token. A missing or corrupt entry leaves a
// fresh session; only a store failure is an error.
func (s *Session) load(ctx context.Context, token string) error {
	key := s.storeKey(token)
	data, found, err := s.m.o.Store.Find(ctx, key)
	if err != nil {
		return err
	}
	if !found {
		return nil
	}
	var rec Record
	if err := rec.decode(data); err != nil {
		s.m.log.Warn("session data unreadable, starting a new session", "err", err)
		return nil
	}
	now := s.loaded // a few microseconds ago, unless a lock was waited for
	if s.m.locker != nil {
		now = time.Now()
	}
	if !rec.Deadline.IsZero() && now.After(rec.Deadline) {
		return nil
	}
	s.token, s.foundKey, s.found = token, key, data
	s.created, s.deadline, s.version, s.user, s.values = rec.Created, rec.Deadline, rec.Version, rec.User, rec.Values
	if s.m.o.IdleTimeout > 0 {
		s.slide = true // save even if unchanged, to slide the idle expiry
	}
	return nil
}

func (s *Session) change() error {
	if s.frozen {
		return ErrSaved
	}
	s.status = modified
	return nil
}

// Put sets key to v, which must marshal to JSON. Keys are any non-empty
// string.
func (s *Session) Put(key string, v any) error {
	if key == "" {
		return errors.New("session: empty key")
	}
	raw, err := marshal(v)
	if err != nil {
		return fmt.Errorf("session: value of %q: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.change(); err != nil {
		return err
	}
	s.values[key] = raw
	return nil
}

// marshal is json.Marshal, with the usual counters, flags and strings
// written directly, as json.Marshal writes them (TestMarshal).
func marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case int:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(nil, v, 10), nil
	case bool:
		return strconv.AppendBool(nil, v), nil
	case string:
		return appendString(nil, v), nil
	}
	return json.Marshal(v)
}

// Get decodes the value of key into dst (a pointer, as for
// json.Unmarshal). found is false, with a nil error, when key is not set.
func (s *Session) Get(key string, dst any) (found bool, err error) {
	s.mu.Lock()
	raw, ok := s.values[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return true, fmt.Errorf("session: value of %q: %w", key, err)
	}
	return true, nil
}

// GetString returns key's value if it is a string, else "".
func (s *Session) GetString(key string) string {
	var v string
	s.Get(key, &v) // the zero value is the documented answer to an error
	return v
}

// GetInt returns key's value if it is an integer, else 0.
func (s *Session) GetInt(key string) int {
	n, _ := strconv.ParseInt(string(s.rawValue(key)), 10, strconv.IntSize)
	return int(n)
}

// GetInt64 returns key's value if it is an integer, else 0.
func (s *Session) GetInt64(key string) int64 {
	n, _ := strconv.ParseInt(string(s.rawValue(key)), 10, 64)
	return n
}

// rawValue returns the JSON of key's value, nil when it is not set.
// GetInt and GetInt64 read it with strconv.ParseInt as json.Unmarshal
// does an integer (a string, a fraction or an exponent is an error,
// hence 0), without its reflection.
func (s *Session) rawValue(key string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// GetFloat returns key's value if it is a number, else 0.
func (s *Session) GetFloat(key string) float64 {
	var v float64
	s.Get(key, &v) // the zero value is the documented answer to an error
	return v
}

// GetBool returns key's value if it is a boolean, else false.
func (s *Session) GetBool(key string) bool {
	var v bool
	s.Get(key, &v) // the zero value is the documented answer to an error
	return v
}

// GetTime returns key's value if it is a time (as Put stores a
// time.Time: RFC 3339), else the zero time.
func (s *Session) GetTime(key string) time.Time {
	var v time.Time
	s.Get(key, &v) // the zero value is the documented answer to an error
	return v
}

// Delete removes key.
func (s *Session) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.values[key]; !ok {
		return nil
	}
	if err := s.change(); err != nil {
		return err
	}
	delete(s.values, key)
	return nil
}

// Keys returns the keys set, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks := make([]string, 0, len(s.values))
	for k := range s.values {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// User returns the session's user ("" for none), Quixote's session.user.
func (s *Session) User() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user
}

// SetUser sets the session's user; "" logs out. Call RenewToken as well
// when the user changes (at login), against session fixation.
func (s *Session) SetUser(user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.change(); err != nil {
		return err
	}
	s.user = user
	return nil
}

// Created returns when the session was created: for a session not saved
// yet, when this request loaded it.
func (s *Session) Created() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.created.IsZero() {
		return s.loaded.UTC()
	}
	return s.created
}

// Version returns how many times the session was saved before this
// request.
func (s *Session) Version() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// RenewToken gives the session a new token, keeping its values and
// user, and deletes the old entry from the store. Call it when the
// privilege level changes (login, logout), against session fixation. The
// lifetime starts again.
func (s *Session) RenewToken(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.change(); err != nil {
		return err
	}
	if s.detached {
		return nil
	}
	if s.token != "" {
		if err := s.m.o.Store.Delete(ctx, s.storeKey(s.token)); err != nil {
			return err
		}
	}
	s.token = newToken()
	s.foundKey, s.found = "", nil
	s.created, s.deadline = time.Now().UTC(), time.Time{}
	s.status = modified
	return nil
}

// Destroy deletes the session from the store and expires the cookie.
// Changes made after Destroy in the same request start a new session.
func (s *Session) Destroy(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		return ErrSaved
	}
	if s.token != "" && !s.detached {
		if err := s.m.o.Store.Delete(ctx, s.storeKey(s.token)); err != nil {
			return err
		}
	}
	s.reset()
	s.loaded = time.Now()
	s.status = destroyed
	return nil
}

// LogValue implements slog.LogValuer: the user, creation time and keys,
// never the token.
func (s *Session) LogValue() slog.Value {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks := make([]string, 0, len(s.values))
	for k := range s.values {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return slog.GroupValue(
		slog.String("user", s.user),
		slog.Time("created", s.created),
		slog.String("keys", strings.Join(ks, ",")),
	)
}
