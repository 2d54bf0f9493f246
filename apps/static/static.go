// Package static is the static app (Paste's egg:Paste#static): it serves
// files from a directory or any fs.FS with ETag, Last-Modified, Range and
// conditional requests (through http.ServeContent).
//
// Files are opened through os.Root, so no request path, ".." or symlink
// reaches outside the document root. Directory listings are off unless
// asked for; index files are served for directories.
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
	"time"

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
}

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
	h := New(root.FS(), o)
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
	upath := r.URL.Path
	if strings.Contains(upath, "\x00") {
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+upath), "/")
	if name == "" {
		name = "."
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
	if fi.IsDir() {
		if !strings.HasSuffix(upath, "/") {
			target := mount.OriginalPath(r) + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		for _, idx := range h.opts.Index {
			p := path.Join(name, idx)
			if ff, err := h.fsys.Open(p); err == nil {
				if ffi, err := ff.Stat(); err == nil && !ffi.IsDir() {
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
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), rs)
}

var listTmpl = template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Index of {{.Path}}</title></head>
<body><h1>Index of {{.Path}}</h1>
<ul>{{if ne .Path "/"}}<li><a href="../">../</a></li>{{end}}
{{range .Entries}}<li><a href="{{.Href}}">{{.Name}}</a></li>
{{end}}</ul></body></html>
`))

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
		if e.IsDir() {
			n += "/"
		}
		data.Entries = append(data.Entries, entry{Name: n, Href: (&urlPath{n}).String()})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	listTmpl.Execute(w, data)
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
