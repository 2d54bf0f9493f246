package registry

import (
	"net/http"
	"slices"
	"testing"
)

func TestSuggest(t *testing.T) {
	keys := []string{"document_root", "index_files", "cache_control", "level"}
	prefixes := []string{"app", "application", "composite", "pipeline", "filter-app", "filter", "server"}
	for _, c := range []struct {
		name       string
		candidates []string
		want       string
	}{
		{"documentroot", keys, "document_root"},
		{"Document_Root", keys, "document_root"}, // case is not an edit
		{"levle", keys, "level"},                 // a transposition is one edit
		{"index_fles", keys, "index_files"},
		{"colour", keys, ""}, // nothing close
		{"level", keys, ""},  // the name itself is no suggestion
		{"sever", prefixes, "server"},
		{"filtr", prefixes, "filter"},
		{"pipline", prefixes, "pipeline"},
		{"ap", prefixes, "app"},
		{"filter_app", prefixes, "filter-app"},
		{"api", []string{"app"}, "app"},
		{"db", []string{"app"}, ""},  // two edits from a 3-letter name is too far
		{"loggers", prefixes, ""},    // logging's sections are not typos
		{"handlers", prefixes, ""},   //
		{"formatters", prefixes, ""}, //
		{"uwsgi", prefixes, ""},      //
		{"statc", []string{"static", "env", "text"}, "static"},
		{"tst", []string{"text", "test"}, "test"}, // the closest, not the first close one
		{"x", nil, ""},
	} {
		if got := Suggest(c.name, c.candidates); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	if got := DidYouMean("statc", []string{"static"}); got != "; did you mean static?" {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := DidYouMean("zzz", []string{"static"}); got != "" {
		t.Errorf("DidYouMean with nothing close = %q", got)
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"abc", "abc", 0},
		{"abc", "acb", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3},
		{"héllo", "hello", 1}, // runes, not bytes
	} {
		if got := distance(c.a, c.b); got != c.want {
			t.Errorf("distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestNamesAndAsked(t *testing.T) {
	r := New()
	r.AddApp("static", nopApp, "files", "egg:Paste#static", "files")
	r.AddComposite("urlmap", nopApp, "map")
	r.AddFilter("gzip", func(*Config) (func(http.Handler) http.Handler, error) { return nil, nil }, "gz")
	if got, want := r.Names(App), []string{"static", "files", "urlmap"}; !slices.Equal(got, want) {
		t.Errorf("Names(App) = %q, want %q (egg: aliases left out, composites in)", got, want)
	}
	if got := r.Names(Filter); !slices.Equal(got, []string{"gzip"}) {
		t.Errorf("Names(Filter) = %q", got)
	}

	c := NewConfig(App, "app:main", "site.ini:1", "/x/site.ini", nil,
		[]Entry{{"document_root", "/srv", "site.ini:2"}, {"documentroot", "/srv", "site.ini:3"}, {"colour", "red", "site.ini:4"}}, nil, nil)
	c.String("document_root", "")
	c.Int("index_files", 0)
	c.Has("cache_control")
	if got, want := c.Asked(), []string{"document_root", "index_files", "cache_control"}; !slices.Equal(got, want) {
		t.Errorf("Asked = %q, want %q", got, want)
	}
	errs := c.UnreadErrors(`app "static"`)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		`site.ini:3: [app:main]: unknown key "documentroot" for app "static"; did you mean document_root?`,
		`site.ini:4: [app:main]: unknown key "colour" for app "static"`,
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("UnreadErrors =\n%q\nwant\n%q", msgs, want)
	}
}
