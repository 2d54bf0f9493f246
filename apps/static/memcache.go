package static

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MaxCachedFile is the largest file the memory cache keeps.
const MaxCachedFile = 64 << 10

// revalidateAfter is how long a cached file is served before the cache
// checks (with a stat through the root) that it has not changed.
const revalidateAfter = time.Second

// memCache keeps the bytes of small regular files, keyed by cleaned name,
// with the response headers precomputed, so that serving one takes no
// system call besides the write. An entry older than revalidateAfter is
// checked with a stat: a changed file is reloaded, a vanished one (or a
// symlink now pointing out of the root) dropped.
type memCache struct {
	max int64
	ttl time.Duration // revalidateAfter; tests shorten it

	mu      sync.RWMutex
	entries map[string]*cached
	size    int64
}

type cached struct {
	data    []byte
	modTime time.Time
	name    string // base name, for ServeContent
	// Header values, shared by every response; never modified.
	etag, lastModified, contentType, contentLength []string
	checked                                        atomic.Int64 // Unix nanoseconds of the last stat
}

func newMemCache(max int64) *memCache {
	return &memCache{max: max, ttl: revalidateAfter, entries: make(map[string]*cached)}
}

// get returns the entry for name, revalidating it when it is due.
func (c *memCache) get(fsys fs.FS, name string, now time.Time) *cached {
	c.mu.RLock()
	e := c.entries[name]
	c.mu.RUnlock()
	if e == nil {
		return nil
	}
	if now.UnixNano()-e.checked.Load() < int64(c.ttl) {
		return e
	}
	fi, err := fs.Stat(fsys, name)
	if err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(e.data)) && fi.ModTime().Equal(e.modTime) {
		e.checked.Store(now.UnixNano())
		return e
	}
	c.drop(name, e)
	return nil
}

func (c *memCache) drop(name string, e *cached) {
	c.mu.Lock()
	if c.entries[name] == e {
		delete(c.entries, name)
		c.size -= int64(len(e.data))
	}
	c.mu.Unlock()
}

// load reads the open file f (a regular file no larger than
// MaxCachedFile) and keeps it when there is room. It returns nil when the
// file could not be read whole.
func (c *memCache) load(name string, f fs.File, fi fs.FileInfo, now time.Time) *cached {
	size := fi.Size()
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil
	}
	// A file growing while read would be cut short; a second read of one
	// byte tells.
	var one [1]byte
	if n, _ := f.Read(one[:]); n != 0 {
		return nil
	}
	e := &cached{data: data, modTime: fi.ModTime(), name: fi.Name(),
		contentLength: []string{strconv.FormatInt(size, 10)}}
	ct := mime.TypeByExtension(filepath.Ext(fi.Name()))
	if ct == "" {
		ct = http.DetectContentType(data) // as ServeContent would
	}
	e.contentType = []string{ct}
	if !e.modTime.IsZero() {
		e.etag = []string{fmt.Sprintf(`"%x-%x"`, e.modTime.UnixNano(), size)}
		e.lastModified = lastModified(e.modTime)
	}
	e.checked.Store(now.UnixNano())
	c.mu.Lock()
	if old := c.entries[name]; old != nil {
		c.size -= int64(len(old.data))
		delete(c.entries, name)
	}
	if c.size+size <= c.max {
		c.entries[name] = e
		c.size += size
	}
	c.mu.Unlock()
	return e
}

// lastModified is the Last-Modified value ServeContent sends for a
// file modified at t: none for the zero time or the Unix epoch.
func lastModified(t time.Time) []string {
	if t.IsZero() || t.Equal(time.Unix(0, 0)) {
		return nil
	}
	return []string{t.UTC().Format(http.TimeFormat)}
}

// conditional reports whether r asks for anything but the whole body:
// a range or a precondition, which ServeContent handles.
func conditional(r *http.Request) bool {
	h := r.Header
	return len(h["Range"]) > 0 || len(h["If-None-Match"]) > 0 || len(h["If-Modified-Since"]) > 0 ||
		len(h["If-Match"]) > 0 || len(h["If-Unmodified-Since"]) > 0 || len(h["If-Range"]) > 0
}

// serve answers r from e.
func (h *Handler) serveCached(w http.ResponseWriter, r *http.Request, e *cached) {
	hdr := w.Header()
	if h.cacheHdr != nil {
		hdr["Cache-Control"] = h.cacheHdr
	}
	hdr["Content-Type"] = e.contentType
	if e.etag != nil {
		hdr["Etag"] = e.etag
	}
	if conditional(r) {
		http.ServeContent(w, limitRanges(r, int64(len(e.data))), e.name, e.modTime, bytes.NewReader(e.data))
		return
	}
	if e.lastModified != nil {
		hdr["Last-Modified"] = e.lastModified
	}
	hdr["Accept-Ranges"] = acceptRanges
	hdr["Content-Length"] = e.contentLength
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(e.data) // a write error means the client is gone
	}
}

var acceptRanges = []string{"bytes"}
