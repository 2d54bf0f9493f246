package htpasswd

import (
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
	info  os.FileInfo // of the content in users, or of the last bad one
}

// Open reads the htpasswd file at path. It fails when the file cannot be
// read or has a bad line. A nil logger means slog.Default().
func Open(path string, logger *slog.Logger) (*File, error) {
	if logger == nil {
		logger = slog.Default()
	}
	f := &File{path: path, logger: logger}
	users, info, err := f.read()
	if err != nil {
		return nil, err
	}
	f.users, f.info = users, info
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

// current returns the users in force, rereading the file if it changed.
func (f *File) current() Users {
	f.mu.RLock()
	users, info := f.users, f.info
	f.mu.RUnlock()
	now, err := os.Stat(f.path)
	if err != nil || !changed(info, now) {
		// A file that vanished for a moment (an editor saving it) keeps
		// the users read last.
		return users
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.info != info { // another request reloaded it meanwhile
		return f.users
	}
	nu, ninfo, err := f.read()
	switch {
	case err != nil && ninfo == nil:
		return f.users
	case err != nil:
		f.info = ninfo
		f.logger.Warn("htpasswd file not reloaded", "path", f.path, "err", err)
	default:
		f.users, f.info = nu, ninfo
		f.logger.Info("htpasswd file reloaded", "path", f.path, "users", len(nu))
	}
	return f.users
}

// Check reports whether user is in the file and password matches.
func (f *File) Check(user, password string) bool {
	return f.current().Check(user, password)
}
