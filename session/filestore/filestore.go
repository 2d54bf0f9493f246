// Package filestore keeps each session in a file of its own under one
// directory, shared safely by every process on the machine that opens the
// same directory (prefork workers, several gopaste processes).
//
// A session file is named KEY.session (KEY is the base64url hash the
// session manager uses, never the token), in a subdirectory named by the
// first two characters of KEY (which spreads the directory locks that
// creating and renaming files take), and holds one header line, then the
// session's stored record:
//
//	gopaste-session 1 EXPIRY_UNIX_NANOSECONDS\n
//	{"format":1,...}
//
// Files are written to a temporary name and renamed into place, so a
// reader sees the old or the new file, never half of one. A file whose
// header does not parse is reported (logged) and treated as absent. All
// access goes through an os.Root on the directory: no key can name a file
// outside it.
//
// Locks are flock(2) locks on KEY.lock (exclusive) and KEY.swap (the
// compare-and-swap of optimistic locking). The kernel drops them when
// the holding process dies, so the ttl of [Store.Lock] is not needed.
// The cleanup loop removes expired session files and stale temporary
// files.
package filestore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gopaste/gopaste/session"
)

// Options configure a [Store].
type Options struct {
	// CleanupInterval is how often expired files are removed; zero means
	// 5 minutes, negative means never.
	CleanupInterval time.Duration
	// Logger reports corrupt files and cleanup trouble; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Store is a directory of session files. It is safe for concurrent use;
// Close stops its cleanup loop and closes the directory.
type Store struct {
	root *os.Root
	log  *slog.Logger

	stopSweep func() // the cleanup loop's
}

const (
	suffix    = ".session"
	tmpPrefix = ".tmp-"
	magic     = "gopaste-session 1 "
)

// New opens (creating it if needed) the directory dir.
func New(dir string, o Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	s := &Store{root: root, log: o.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.stopSweep = session.Sweep(o.CleanupInterval, s.log, func(_ context.Context, now time.Time) error {
		return s.DeleteExpired(now)
	})
	return s, nil
}

// Close stops the cleanup loop and closes the directory.
func (s *Store) Close() error {
	s.stopSweep()
	return s.root.Close()
}

// shard is the subdirectory of key's files.
func shard(key string) string { return key[:min(2, len(key))] }

// path is the name of key's file with extension ext, under the root.
func path(key, ext string) string { return shard(key) + "/" + key + ext }

func (s *Store) mkShard(key string) error {
	if err := s.root.Mkdir(shard(key), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}

// validKey refuses keys that are not plain base64url names, so that no
// key can make a name with a separator, a dot file or a temporary name.
func validKey(key string) error {
	if key == "" || len(key) > 128 {
		return fmt.Errorf("filestore: invalid key of %d bytes", len(key))
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return errors.New("filestore: invalid key: not base64url")
		}
	}
	return nil
}

// parse splits a session file into its expiry and data.
func parse(b []byte) (time.Time, []byte, error) {
	rest, ok := bytes.CutPrefix(b, []byte(magic))
	if !ok {
		return time.Time{}, nil, errors.New("no session header")
	}
	num, data, ok := bytes.Cut(rest, []byte("\n"))
	if !ok || len(num) > 20 {
		return time.Time{}, nil, errors.New("bad session header")
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return time.Time{}, nil, errors.New("bad expiry in session header")
	}
	return time.Unix(0, n), data, nil
}

func (s *Store) read(key string) (expiry time.Time, data []byte, found bool, err error) {
	b, err := s.root.ReadFile(path(key, suffix))
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil, false, nil
	}
	if err != nil {
		return time.Time{}, nil, false, fmt.Errorf("filestore: %w", err)
	}
	expiry, data, err = parse(b)
	if err != nil {
		s.log.Warn("corrupt session file, treated as absent", "file", path(key, suffix), "err", err)
		return time.Time{}, nil, false, nil
	}
	return expiry, data, true, nil
}

// Find implements session.Store.
func (s *Store) Find(_ context.Context, key string) ([]byte, bool, error) {
	if err := validKey(key); err != nil {
		return nil, false, err
	}
	expiry, data, found, err := s.read(key)
	if err != nil || !found || !time.Now().Before(expiry) {
		return nil, false, err
	}
	return data, true, nil
}

// Commit implements session.Store: it writes a temporary file and renames
// it over the session file.
func (s *Store) Commit(_ context.Context, key string, data []byte, expiry time.Time) error {
	if err := validKey(key); err != nil {
		return err
	}
	return s.write(key, data, expiry)
}

func (s *Store) write(key string, data []byte, expiry time.Time) error {
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := shard(key) + "/" + tmpPrefix + key + "-" + hex.EncodeToString(rnd[:])
	b := make([]byte, 0, len(magic)+21+len(data))
	b = append(b, magic...)
	b = strconv.AppendInt(b, expiry.UnixNano(), 10)
	b = append(b, '\n')
	b = append(b, data...)
	err := s.root.WriteFile(tmp, b, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err = s.mkShard(key); err == nil {
			err = s.root.WriteFile(tmp, b, 0o600)
		}
	}
	if err != nil {
		s.root.Remove(tmp) // a partial temp file; the cleanup loop would get it too
		return fmt.Errorf("filestore: %w", err)
	}
	if err := s.root.Rename(tmp, path(key, suffix)); err != nil {
		s.root.Remove(tmp)
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if err := s.root.Remove(path(key, suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("filestore: %w", err)
	}
	return nil
}

// Swap implements session.Swapper, under a flock on KEY.swap.
func (s *Store) Swap(ctx context.Context, key string, old, data []byte, expiry time.Time) (bool, error) {
	if err := validKey(key); err != nil {
		return false, err
	}
	unlock, err := s.flock(ctx, key, ".swap")
	if err != nil {
		return false, err
	}
	defer unlock()
	cur, curData, found, err := s.read(key)
	if err != nil {
		return false, err
	}
	live := found && time.Now().Before(cur)
	if old == nil && live || old != nil && (!live || !bytes.Equal(old, curData)) {
		return false, nil
	}
	return true, s.write(key, data, expiry)
}

// Lock implements session.Locker with a flock on KEY.lock; ttl is not
// needed (see the package doc).
func (s *Store) Lock(ctx context.Context, key string, _ time.Duration) (func(context.Context) error, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	unlock, err := s.flock(ctx, key, ".lock")
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func(context.Context) error {
		once.Do(unlock)
		return nil
	}, nil
}

// flock takes an exclusive flock on name, polling until ctx is done. The
// unlock removes the file, so that lock files do not pile up; a waiter
// that locked a file removed meanwhile sees it is no longer the file at
// name and starts again.
func (s *Store) flock(ctx context.Context, key, ext string) (unlock func(), err error) {
	name := path(key, ext)
	wait := time.Millisecond
	for {
		f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if errors.Is(err, fs.ErrNotExist) {
			if err = s.mkShard(key); err == nil {
				f, err = s.root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("filestore: %w", err)
		}
		for {
			err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
			if err == nil || !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
				break
			}
			select {
			case <-ctx.Done():
				f.Close()
				return nil, fmt.Errorf("filestore: lock %s: %w", name, ctx.Err())
			case <-time.After(wait):
			}
			wait = min(wait*2, 20*time.Millisecond)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("filestore: flock %s: %w", name, err)
		}
		held, _ := f.Stat()
		now, serr := s.root.Stat(name)
		if serr == nil && held != nil && os.SameFile(held, now) {
			return func() {
				s.root.Remove(name) // before unlocking: see above
				f.Close()           // releases the flock
			}, nil
		}
		f.Close() // locked a file someone removed: try the new one
	}
}

// DeleteExpired removes session files expired for more than a minute at
// now, temporary files older than a minute, lock files an hour old that
// nobody holds, and corrupt files (after reporting them).
func (s *Store) DeleteExpired(now time.Time) error {
	shards, err := s.readDir(".")
	if err != nil {
		return err
	}
	var errs []error
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) > 2 || validKey(sh.Name()) != nil {
			continue
		}
		ents, err := s.readDir(sh.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range ents {
			if err := s.clean(sh.Name(), e, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Store) readDir(dir string) ([]fs.DirEntry, error) {
	d, err := s.root.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("filestore: %w", err)
	}
	return ents, nil
}

// clean removes entry e of shard sh if it is stale (see DeleteExpired).
func (s *Store) clean(sh string, e fs.DirEntry, now time.Time) error {
	name := e.Name()
	full := sh + "/" + name
	switch {
	case strings.HasPrefix(name, tmpPrefix):
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > time.Minute {
			s.root.Remove(full) // gone already is fine
		}
	case strings.HasSuffix(name, ".lock") || strings.HasSuffix(name, ".swap"):
		// Left by a process that died holding it; unlock removes them
		// otherwise.
		if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > time.Hour {
			s.removeUnlocked(full)
		}
	case strings.HasSuffix(name, suffix):
		key := strings.TrimSuffix(name, suffix)
		if validKey(key) != nil || shard(key) != sh {
			return nil
		}
		expiry, _, found, err := s.read(key)
		if err != nil {
			return err
		}
		// A request that loaded the session just before it expired may
		// still save it: leave a minute's grace before removing, since a
		// save renames a new file in under the same name.
		if !found || now.Sub(expiry) > time.Minute {
			s.root.Remove(full) // gone already is fine
		}
	}
	return nil
}

// removeUnlocked removes lock file name if nobody holds its lock. A
// process that opened it just before and locks it after sees that it is
// no longer the file at name (see flock) and starts again.
func (s *Store) removeUnlocked(name string) {
	f, err := s.root.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return // gone already
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		s.root.Remove(name) // gone already is fine
	}
}
