package static

import (
	"io/fs"
	"os"
	"syscall"
)

// rootFS is the fs.FS of Dir: root's own (os.Root.FS), whose files open
// with O_NONBLOCK. Opening a FIFO then returns at once instead of
// waiting for a writer, holding a thread, for ever (the handler answers
// 404 to anything but a regular file or a directory, as nginx does); and
// for a regular file, where the flag means nothing, Go no longer sets
// and clears it around its poller check: four fcntl fewer a file.
type rootFS struct {
	root *os.Root
	fsys fs.FS // root.FS(), for Stat and ReadDir
}

func (r rootFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return r.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

func (r rootFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(r.fsys, name) }

func (r rootFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(r.fsys, name) }
