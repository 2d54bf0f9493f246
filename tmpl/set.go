package tmpl

// This file is the template side: pages sharing layouts and partials.

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

// Options say where a [Set]'s templates are.
type Options struct {
	// FS holds the template files: an embed.FS, or os.DirFS(dir) to read
	// a directory. Required.
	FS fs.FS
	// Pages is the glob (fs.Glob syntax) of the page files; each page
	// is named by its file name without extension ("pages/home.html" is
	// "home"). "" means "pages/*.html".
	Pages string
	// Shared are the globs of the files every page is parsed with:
	// layouts and partials. nil means "layouts/*.html" and
	// "partials/*.html"; a glob that matches nothing is not an error.
	Shared []string
	// Layout is the template a page renders through: a layout defines
	// it and calls the blocks ({{block "content" .}}) that pages
	// define. A page that does not define and whose shared files do not
	// define Layout renders its own file. "" means "layout".
	Layout string
	// Funcs are added to every template before parsing.
	Funcs template.FuncMap
	// Debug re-reads and re-parses the files on every render, so edits
	// show without a restart (use it with os.DirFS). Off, the files
	// are parsed once, by [New].
	Debug bool
}

// Set is a set of pages parsed with their shared layouts and partials.
// It is safe for concurrent use.
type Set struct {
	o     Options
	mu    sync.Mutex
	pages map[string]*template.Template
}

// New parses the templates o names and returns the Set, or the first
// parse error (with Debug on too, so a broken file shows at start-up).
func New(o Options) (*Set, error) {
	if o.FS == nil {
		return nil, errors.New("tmpl: no FS")
	}
	if o.Pages == "" {
		o.Pages = "pages/*.html"
	}
	if o.Shared == nil {
		o.Shared = []string{"layouts/*.html", "partials/*.html"}
	}
	if o.Layout == "" {
		o.Layout = "layout"
	}
	s := &Set{o: o}
	pages, err := s.parse()
	if err != nil {
		return nil, err
	}
	s.pages = pages
	return s, nil
}

// parse reads every page with the shared files.
func (s *Set) parse() (map[string]*template.Template, error) {
	var shared []string
	for _, g := range s.o.Shared {
		m, err := fs.Glob(s.o.FS, g)
		if err != nil {
			return nil, fmt.Errorf("tmpl: shared %q: %w", g, err)
		}
		shared = append(shared, m...)
	}
	base := template.New("").Funcs(s.o.Funcs)
	if len(shared) > 0 {
		if _, err := base.ParseFS(s.o.FS, shared...); err != nil {
			return nil, fmt.Errorf("tmpl: %w", err)
		}
	}
	files, err := fs.Glob(s.o.FS, s.o.Pages)
	if err != nil {
		return nil, fmt.Errorf("tmpl: pages %q: %w", s.o.Pages, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("tmpl: no page matches %q", s.o.Pages)
	}
	pages := make(map[string]*template.Template, len(files))
	for _, f := range files {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("tmpl: %w", err)
		}
		if t, err = t.ParseFS(s.o.FS, f); err != nil {
			return nil, fmt.Errorf("tmpl: %w", err)
		}
		name := strings.TrimSuffix(path.Base(f), path.Ext(f))
		if _, dup := pages[name]; dup {
			return nil, fmt.Errorf("tmpl: two pages named %q", name)
		}
		if t.Lookup(s.o.Layout) == nil {
			t = t.Lookup(path.Base(f))
		} else {
			t = t.Lookup(s.o.Layout)
		}
		pages[name] = t
	}
	return pages, nil
}

// page returns the template of page name, parsed now when Debug is on.
func (s *Set) page(name string) (*template.Template, error) {
	pages := s.pages
	if s.o.Debug {
		p, err := s.parse()
		if err != nil {
			return nil, err
		}
		pages = p
	}
	t, ok := pages[name]
	if !ok {
		return nil, fmt.Errorf("tmpl: no page %q", name)
	}
	return t, nil
}

// Render writes page name executed with data to w. On an error, part of
// the page may have been written; [Set.Respond] avoids that.
func (s *Set) Render(w io.Writer, name string, data any) error {
	t, err := s.page(name)
	if err != nil {
		return err
	}
	return t.Execute(w, data)
}

// HTML returns page name executed with data, as markup to compose
// further (a partial page for a fetch, a mail body).
func (s *Set) HTML(name string, data any) (template.HTML, error) {
	var b bytes.Buffer
	if err := s.Render(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// Respond renders page name into a buffer and sends it with status and
// Content-Type text/html; charset=utf-8. When rendering fails nothing of
// the page is sent: the client gets a plain 500 and the error is
// returned for the caller to log (its text may name files, so it is not
// sent).
func (s *Set) Respond(w http.ResponseWriter, status int, name string, data any) error {
	var b bytes.Buffer
	if err := s.Render(&b, name, data); err != nil {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(b.Bytes())
	return err
}
