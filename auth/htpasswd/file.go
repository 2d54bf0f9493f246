package htpasswd

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// File is an htpasswd file that is read again when it changes. Each
// [File.Check] stats the file and rereads it when its size, modification
// time or identity (a rename over it, as htpasswd does) changed. When the
// new content does not parse, the users read before stay in force and the
// error is logged once per change.
//
// A File is safe for concurrent use.
type File struct {
	path   string
	logger *slog.Logger

	mu    sync.RWMutex
	users Users
	decoy Hash        // users.Decoy(), found once per reload
	info  os.FileInfo // of the content in users, or of the last bad one
	gen   uint64      // counts reloads; cache entries of older ones are void

	// The cache remembers, per user, a keyed MAC of the last password
	// that matched, so a client that sends the same Basic credentials
	// with every request pays for bcrypt or SHA-crypt once.
	cacheKey [32]byte
	cmu      sync.Mutex
	cache    map[string]cached
}

type cached struct {
	gen uint64
	mac [32]byte
}

// Open reads the htpasswd file at path. It fails when the file cannot be
// read or has a bad line. A nil logger means slog.Default().
func Open(path string, logger *slog.Logger) (*File, error) {
	if logger == nil {
		logger = slog.Default()
	}
	f := &File{path: path, logger: logger, cache: make(map[string]cached)}
	rand.Read(f.cacheKey[:])
	users, info, err := f.read()
	if err != nil {
		return nil, err
	}
	f.users, f.decoy, f.info = users, users.Decoy(), info
	return f, nil
}

// Path returns the file's path.
func (f *File) Path() string { return f.path }

func (f *File) read() (Users, os.FileInfo, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return nil, nil, err
	}
	users, err := Parse(fh)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", f.path, err)
	}
	return users, info, nil
}

func changed(a, b os.FileInfo) bool {
	return a == nil || b == nil || a.Size() != b.Size() || !a.ModTime().Equal(b.ModTime()) || !os.SameFile(a, b)
}

// current returns the users in force, their decoy and their generation,
// rereading the file if it changed.
func (f *File) current() (Users, Hash, uint64) {
	f.mu.RLock()
	users, decoy, info, gen := f.users, f.decoy, f.info, f.gen
	f.mu.RUnlock()
	now, err := os.Stat(f.path)
	if err != nil || !changed(info, now) {
		// A file that vanished for a moment (an editor saving it) keeps
		// the users read last.
		return users, decoy, gen
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.info != info { // another request reloaded it meanwhile
		return f.users, f.decoy, f.gen
	}
	nu, ninfo, err := f.read()
	switch {
	case err != nil && ninfo == nil:
	case err != nil:
		f.info = ninfo
		f.logger.Warn("htpasswd file not reloaded", "path", f.path, "err", err)
	default:
		f.users, f.decoy, f.info = nu, nu.Decoy(), ninfo
		f.gen++
		f.logger.Info("htpasswd file reloaded", "path", f.path, "users", len(nu))
	}
	return f.users, f.decoy, f.gen
}

// Check reports whether user is in the file and password matches. An
// unknown user costs what a known one does ([Users.Decoy]).
func (f *File) Check(user, password string) bool {
	users, decoy, gen := f.current()
	m := hmac.New(sha256.New, f.cacheKey[:])
	m.Write([]byte(password))
	var mac [32]byte
	m.Sum(mac[:0])

	f.cmu.Lock()
	c, ok := f.cache[user]
	f.cmu.Unlock()
	if ok && c.gen == gen && hmac.Equal(c.mac[:], mac[:]) {
		return true
	}
	if !users.check(user, password, decoy) {
		return false
	}
	f.cmu.Lock()
	if len(f.cache) > len(users) { // users removed by reloads
		clear(f.cache)
	}
	f.cache[user] = cached{gen, mac}
	f.cmu.Unlock()
	return true
}
