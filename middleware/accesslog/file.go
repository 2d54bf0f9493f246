package accesslog

import (
	"fmt"
	"os"
	"sync"
)

// File is a log file opened for appending that can be reopened under the
// same name, after logrotate moved it away: call Reopen on SIGUSR1
// ("gopaste serve" does, for the files of the filters it built). It is
// safe for concurrent use.
type File struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// OpenFile opens (creating, mode 0644) path for appending.
func OpenFile(path string) (*File, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f}, nil
}

func open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("accesslog: %w", err)
	}
	return f, nil
}

// Write appends p to the file.
func (lf *File) Write(p []byte) (int, error) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.f == nil {
		return 0, os.ErrClosed
	}
	return lf.f.Write(p)
}

// Reopen closes the file and opens path again. When the new open fails,
// writing goes on to the old file.
func (lf *File) Reopen() error {
	// The lock is held across the open, so no line is written to the old
	// file once the new one exists (logrotate may compress the old one
	// as soon as it sees the new).
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.f == nil {
		return os.ErrClosed
	}
	f, err := open(lf.path)
	if err != nil {
		return err
	}
	old := lf.f
	lf.f = f
	return old.Close()
}

// Close closes the file.
func (lf *File) Close() error {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.f == nil {
		return nil
	}
	err := lf.f.Close()
	lf.f = nil
	return err
}

// Path returns the file's name.
func (lf *File) Path() string { return lf.path }
