package tmpl_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gopaste/gopaste/tmpl"
)

var site = fstest.MapFS{
	"layouts/base.html": {Data: []byte(`{{define "layout"}}<html><title>{{block "title" .}}Site{{end}}</title>` +
		`<body>{{template "nav" .}}{{block "content" .}}{{end}}</body></html>{{end}}`)},
	"partials/nav.html": {Data: []byte(`{{define "nav"}}<nav>{{.User}}</nav>{{end}}`)},
	"pages/home.html":   {Data: []byte(`{{define "content"}}<p>{{.Msg}}</p>{{end}}`)},
	"pages/about.html":  {Data: []byte(`{{define "title"}}About{{end}}{{define "content"}}about{{end}}`)},
}

func TestSetLayoutsPartials(t *testing.T) {
	s, err := tmpl.New(tmpl.Options{FS: site})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"home":  `<html><title>Site</title><body><nav>&lt;u&gt;</nav><p>hi &amp; bye</p></body></html>`,
		"about": `<html><title>About</title><body><nav>&lt;u&gt;</nav>about</body></html>`,
	} {
		got, err := s.HTML(name, map[string]string{"User": "<u>", "Msg": "hi & bye"})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	if _, err := s.HTML("nope", nil); err == nil {
		t.Error("unknown page rendered")
	}
}

// TestPageWithoutLayout: a page no layout wraps renders its own file.
func TestPageWithoutLayout(t *testing.T) {
	s, err := tmpl.New(tmpl.Options{FS: fstest.MapFS{"pages/x.html": {Data: []byte(`<b>{{.}}</b>`)}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.HTML("x", "<i>")
	if err != nil || got != "<b>&lt;i&gt;</b>" {
		t.Errorf("HTML = %q, %v", got, err)
	}
}

func TestNewErrors(t *testing.T) {
	for name, o := range map[string]tmpl.Options{
		"no FS":     {},
		"no pages":  {FS: fstest.MapFS{"x.html": {}}},
		"bad parse": {FS: fstest.MapFS{"pages/a.html": {Data: []byte(`{{if}}`)}}},
		"dup page":  {FS: fstest.MapFS{"pages/a.html": {}, "pages/a.tmpl": {}}, Pages: "pages/*"},
		"bad glob":  {FS: site, Pages: "["},
	} {
		if _, err := tmpl.New(o); err == nil || !strings.HasPrefix(err.Error(), "tmpl: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestDebugRereads: with Debug, an edited file shows on the next render;
// without, the page parsed at New stays.
func TestDebugRereads(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "pages", "p.html")
	if err := os.MkdirAll(filepath.Dir(page), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(page, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	debug, err := tmpl.New(tmpl.Options{FS: os.DirFS(dir), Debug: true})
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := tmpl.New(tmpl.Options{FS: os.DirFS(dir)})
	if err != nil {
		t.Fatal(err)
	}
	write("two")
	if got, _ := debug.HTML("p", nil); got != "two" {
		t.Errorf("debug renders %q, want the edit", got)
	}
	if got, _ := fixed.HTML("p", nil); got != "one" {
		t.Errorf("non-debug renders %q, want the file as parsed", got)
	}
	write("{{if}}")
	if _, err := debug.HTML("p", nil); err == nil {
		t.Error("broken edit rendered")
	}
}

func TestRespond(t *testing.T) {
	s, err := tmpl.New(tmpl.Options{FS: fstest.MapFS{"pages/p.html": {Data: []byte(`a{{.X}}b`)}}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := s.Respond(w, 201, "p", map[string]string{"X": "<"}); err != nil {
		t.Fatal(err)
	}
	if w.Code != 201 || w.Body.String() != "a&lt;b" || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("got %d %q %v", w.Code, w.Body, w.Header())
	}
	// A failing render sends none of the page.
	w = httptest.NewRecorder()
	if err := s.Respond(w, 200, "p", 42); err == nil {
		t.Error("no error for a bad field")
	}
	if w.Code != 500 || w.Body.String() != "500 Internal Server Error\n" {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
}

// TestTemplateXSS runs the attacker's values through a page in each
// context html/template escapes: text, a quoted attribute, an unquoted
// attribute, a URL attribute and a script.
func TestTemplateXSS(t *testing.T) {
	s, err := tmpl.New(tmpl.Options{FS: fstest.MapFS{"pages/p.html": {Data: []byte(
		`<p>{{.}}</p><a title="{{.}}" class={{.}} href="{{.}}">x</a><script>var v = {{.}};</script>`)}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range xss {
		got, err := s.HTML("p", v)
		if err != nil {
			t.Fatal(err)
		}
		g := string(got)
		// The only tags are the page's own.
		if n := strings.Count(g, "<"); n != 6 {
			t.Errorf("%q: %d '<' in %s", v, n, g)
		}
		if strings.Contains(strings.ToLower(g), `href="javascript:`) || strings.Contains(strings.ToLower(g), `href=" javascript:`) {
			t.Errorf("%q: javascript: URL kept: %s", v, g)
		}
		if strings.Contains(g, "onerror=") && !strings.Contains(g, "onerror=alert(1)&gt;") && !strings.Contains(g, `onerror\u003dalert`) {
			t.Errorf("%q: %s", v, g)
		}
		script := g[strings.Index(g, "<script>")+len("<script>") : strings.LastIndex(g, "</script>")]
		if strings.Contains(strings.ToLower(script), "</script") || !strings.HasPrefix(script, `var v = "`) {
			t.Errorf("%q: script not a string literal: %s", v, script)
		}
	}
	got, _ := s.HTML("p", "javascript:alert(1)")
	if !strings.Contains(string(got), `href="#ZgotmplZ"`) {
		t.Errorf("javascript: URL not replaced: %s", got)
	}
}
