// Package static is the static app (Paste's egg:Paste#static): it serves
// files from a directory or any fs.FS with ETag, Last-Modified, Range and
// conditional requests (through http.ServeContent).
//
// Files are opened through os.Root, so no request path, ".." or symlink
// reaches outside the document root. A request path that is not clean is
// redirected to the clean one first ([mount.Canonical]), and redirects are
// built with [mount.Location], so they never point at another host.
// Directory listings are off unless asked for; index files are served for
// directories. Dotfiles (.env, .git/, .htpasswd) are neither served nor
// listed unless [Options.ServeHidden] says so. A Range header asking for
// more than [MaxRanges] ranges, or for overlapping ones, is ignored.
package static

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopaste/gopaste/internal/tcpcork"
	"github.com/gopaste/gopaste/mount"
)

// Options configure a Handler.
type Options struct {
	Index       []string      // index files tried for a directory; nil means index.html
	CacheMaxAge time.Duration // sets Cache-Control: max-age; zero sets none
	Listing     bool          // list directories without an index file
	// MemoryCache is how many bytes of small files (up to MaxCachedFile
	// each) are kept in memory and served without opening them; a cached
	// file is checked for changes at most once a second. Zero keeps none.
	MemoryCache int64
	// ServeHidden serves and lists files and directories whose name
	// starts with a dot (.env, .git/, .htpasswd). By default they answer
	// 404 and are left out of listings; .well-known (RFC 8615) is always
	// served.
	ServeHidden bool
	// NoPush sends the head of each file of tcpcork.Min (64 KiB) or more
	// with the start of its body over HTTP/1 on TCP, not in a segment of
	// its own (MSG_MORE on Linux; nginx's tcp_nopush does the same with
	// TCP_CORK). The tcp_nopush key turns it on by default; docs/apps.md,
	// "tcp_nopush", has the measurements.
	NoPush bool
}

// MaxRanges is the most byte ranges one request may ask for. A Range
// header with more, or with ranges that overlap, is ignored and the
// whole file is sent (200), as Apache's MaxRanges does: many tiny or
// overlapping ranges would make a multipart reply many times the file.
const MaxRanges = 16

// Handler serves files from an fs.FS. It is safe for concurrent use.
type Handler struct {
	fsys     fs.FS
	opts     Options
	cacheHdr []string
	closer   io.Closer
	mem      *memCache // nil without Options.MemoryCache
}

// New serves fsys.
func New(fsys fs.FS, o Options) *Handler {
	if len(o.Index) == 0 {
		o.Index = []string{"index.html"}
	}
	h := &Handler{fsys: fsys, opts: o}
	if o.CacheMaxAge > 0 {
		h.cacheHdr = []string{"max-age=" + strconv.Itoa(int(o.CacheMaxAge/time.Second))}
	}
	if o.MemoryCache > 0 {
		h.mem = newMemCache(o.MemoryCache)
	}
	return h
}

// Dir serves the directory dir through os.Root: nothing outside dir is
// reachable, symlinks included. Close releases the root.
func Dir(dir string, o Options) (*Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	h := New(rootFS{root: root, fsys: root.FS()}, o)
	h.closer = root
	return h, nil
}

// Close releases the directory opened by Dir.
func (h *Handler) Close() error {
	if h.closer != nil {
		return h.closer.Close()
	}
	return nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if !mount.Canonical(w, r) {
		return
	}
	upath := r.URL.Path
	name := fileName(upath)
	if !h.opts.ServeHidden && hidden(name) {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	var now time.Time
	if h.mem != nil {
		now = time.Now()
		if e := h.mem.get(h.fsys, name, now); e != nil {
			h.serveCached(w, r, e)
			return
		}
	}
	f, err := h.fsys.Open(name)
	if err != nil {
		h.openError(w, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		h.openError(w, err)
		return
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		// A FIFO, a socket or a device: not a file to send.
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	if fi.IsDir() {
		if !strings.HasSuffix(upath, "/") {
			target := mount.Location(mount.ScriptName(r.Context()), r.URL.EscapedPath()+"/", r.URL.RawQuery)
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		for _, idx := range h.opts.Index {
			p := path.Join(name, idx)
			if ff, err := h.fsys.Open(p); err == nil {
				if ffi, err := ff.Stat(); err == nil && ffi.Mode().IsRegular() {
					defer ff.Close()
					h.serveFile(w, r, ff, ffi)
					return
				}
				ff.Close()
			}
		}
		if !h.opts.Listing {
			http.Error(w, "403 Forbidden: directory listing is off", http.StatusForbidden)
			return
		}
		h.list(w, r, name)
		return
	}
	if h.mem != nil && fi.Mode().IsRegular() && fi.Size() <= MaxCachedFile {
		if e := h.mem.load(name, f, fi, now); e != nil {
			h.serveCached(w, r, e)
			return
		}
		if s, ok := f.(io.Seeker); !ok {
			h.serveFile(w, r, f, fi) // answers 500
			return
		} else if _, err := s.Seek(0, io.SeekStart); err != nil {
			http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
			return
		}
	}
	h.serveFile(w, r, f, fi)
}

func (h *Handler) openError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		http.Error(w, "404 Not Found", http.StatusNotFound)
	case errors.Is(err, fs.ErrPermission):
		http.Error(w, "403 Forbidden", http.StatusForbidden)
	default:
		// An escape attempt through a symlink lands here too.
		http.Error(w, "404 Not Found", http.StatusNotFound)
	}
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, f fs.File, fi fs.FileInfo) {
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	if h.cacheHdr != nil {
		hdr["Cache-Control"] = h.cacheHdr
	}
	if ct := mime.TypeByExtension(filepath.Ext(fi.Name())); ct != "" {
		hdr.Set("Content-Type", ct)
	}
	if !fi.ModTime().IsZero() {
		hdr.Set("Etag", fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size()))
	}
	if h.opts.NoPush && fi.Size() >= tcpcork.Min && r.Method != http.MethodHead {
		// Written whole at once: in full TCP segments, head included.
		defer tcpcork.During(r)()
	}
	http.ServeContent(w, limitRanges(r, fi.Size()), fi.Name(), fi.ModTime(), rs)
}

// fileName is the name in the served tree of upath, a path that
// [mount.Canonical] found clean ("", "*", or "/" and segments, a trailing
// slash kept): upath without its slashes at either end, "." for the root.
func fileName(upath string) string {
	if name := strings.Trim(upath, "/"); name != "" {
		return name
	}
	return "."
}

// hidden reports whether the cleaned relative name has a segment starting
// with a dot other than .well-known.
func hidden(name string) bool {
	for seg := range strings.SplitSeq(name, "/") {
		if len(seg) > 1 && seg[0] == '.' && seg != ".well-known" {
			return true
		}
	}
	return false
}

// limitRanges returns r without its Range header when that asks for more
// than MaxRanges ranges or for ranges that overlap in a file of size
// bytes; otherwise r itself. A header it cannot parse is left to
// ServeContent.
func limitRanges(r *http.Request, size int64) *http.Request {
	v := r.Header.Get("Range")
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok || !strings.Contains(spec, ",") {
		return r
	}
	type span struct{ from, to int64 } // to is exclusive
	var spans []span
	n := 0
	for ra := range strings.SplitSeq(spec, ",") {
		n++
		if n > MaxRanges {
			return withoutRange(r)
		}
		ra = strings.TrimSpace(ra)
		if ra == "" {
			continue
		}
		a, b, ok := strings.Cut(ra, "-")
		if !ok {
			return r
		}
		var s span
		if a == "" {
			k, err := strconv.ParseInt(b, 10, 64)
			if err != nil {
				return r
			}
			s = span{max(size-k, 0), size}
		} else {
			from, err := strconv.ParseInt(a, 10, 64)
			if err != nil {
				return r
			}
			to := size
			if b != "" {
				e, err := strconv.ParseInt(b, 10, 64)
				if err != nil {
					return r
				}
				to = min(e+1, size)
			}
			s = span{from, to}
		}
		if s.from >= s.to {
			continue // unsatisfiable; ServeContent skips it or answers 416
		}
		for _, o := range spans {
			if s.from < o.to && o.from < s.to {
				return withoutRange(r)
			}
		}
		spans = append(spans, s)
	}
	return r
}

func withoutRange(r *http.Request) *http.Request {
	r2 := *r
	r2.Header = r.Header.Clone()
	r2.Header.Del("Range")
	return &r2
}

// listTmpl is parsed on first use, not at start: every gopaste process
// links this package, most never lists a directory.
var listTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Index of {{.Path}}</title></head>
<body><h1>Index of {{.Path}}</h1>
<ul>{{if ne .Path "/"}}<li><a href="../">../</a></li>{{end}}
{{range .Entries}}<li><a href="{{.Href}}">{{.Name}}</a></li>
{{end}}</ul></body></html>
`))
})

func (h *Handler) list(w http.ResponseWriter, r *http.Request, name string) {
	ents, err := fs.ReadDir(h.fsys, name)
	if err != nil {
		h.openError(w, err)
		return
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	type entry struct{ Name, Href string }
	data := struct {
		Path    string
		Entries []entry
	}{Path: mount.OriginalPath(r)}
	for _, e := range ents {
		n := e.Name()
		if !h.opts.ServeHidden && hidden(n) {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		data.Entries = append(data.Entries, entry{Name: n, Href: (&urlPath{n}).String()})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	listTmpl().Execute(w, data)
}

type urlPath struct{ p string }

func (u *urlPath) String() string {
	// Escape each segment so names with '?' or '#' link correctly.
	segs := strings.Split(u.p, "/")
	for i, s := range segs {
		segs[i] = pathEscape(s)
	}
	return strings.Join(segs, "/")
}
