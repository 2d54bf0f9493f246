package deploy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopaste/gopaste/deploy"
	"github.com/gopaste/gopaste/registry"
)

// TestConnContextCarriesTheConfig: a request whose context comes from
// ConnContext (as the http server's connections' do) sees the same config
// inside the app as one that does not, and an app's own config wins over
// another app's left in the context.
func TestConnContextCarriesTheConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.ini")
	os.WriteFile(p, []byte("[app:main]\nuse = probe\ncolour = blue\n\n[app:other]\nuse = probe\ncolour = red\n"), 0o644)
	reg := testRegistry(t)
	var seen *deploy.RequestConfig
	reg.AddApp("probe", func(c *registry.Config) (http.Handler, error) {
		c.String("colour", "")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = deploy.ConfigFrom(r.Context())
		}), nil
	}, "test")
	build := func(name string) *deploy.App {
		app, err := deploy.BuildApp(p, name, deploy.Options{Registry: reg, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Close() })
		return app
	}
	main, other := build("main"), build("other")
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"plain context", context.Background(), "blue"},
		{"connection context", deploy.ConnContext(context.Background(), main.Handler), "blue"},
		{"another app's connection context", deploy.ConnContext(context.Background(), other.Handler), "blue"},
	} {
		seen = nil
		r := httptest.NewRequest("GET", "/", nil).WithContext(tc.ctx)
		main.Handler.ServeHTTP(httptest.NewRecorder(), r)
		if seen == nil || seen.Local["colour"] != tc.want || seen.Section != "app:main" {
			t.Errorf("%s: config %+v, want colour %s", tc.name, seen, tc.want)
		}
	}
	if got := deploy.ConnContext(context.Background(), http.NotFoundHandler()); deploy.ConfigFrom(got) != nil {
		t.Error("ConnContext of a handler deploy did not build carries a config")
	}
}

// BenchmarkConfigContext measures what carrying the app's config costs a
// request, with and without the connection's context carrying it.
func BenchmarkConfigContext(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "c.ini")
	os.WriteFile(p, []byte("[app:main]\nuse = probe\n"), 0o644)
	reg := registry.New()
	reg.AddApp("probe", func(c *registry.Config) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil
	}, "test")
	app, err := deploy.BuildApp(p, "", deploy.Options{Registry: reg, Logger: discard()})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	for _, conn := range []bool{false, true} {
		// per-request: the request copy with its context (1 alloc);
		// per-connection: nothing.
		name := "per-request"
		ctx := context.Background()
		if conn {
			name, ctx = "per-connection", deploy.ConnContext(ctx, app.Handler)
		}
		b.Run(name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
			b.ReportAllocs()
			for b.Loop() {
				app.Handler.ServeHTTP(nil, r)
			}
		})
	}
}

// TestFilteredAppTakesConfigFromConnection: an app behind filters (a
// pipeline, a filter-app) gives each connection the app's config, as the
// app alone does: the app then gets the very request the filter in front
// passed, not a copy carrying the config, and the filters see the app's
// config too. A composite at the end (urlmap) gives none, and its apps
// still find their own.
func TestFilteredAppTakesConfigFromConnection(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.ini")
	os.WriteFile(p, []byte(`[pipeline:main]
pipeline = probe app

[filter-app:wrapped]
use = probe
next = app

[pipeline:mapped]
pipeline = probe map

[composite:map]
use = urlmap
/ = app

[filter:probe]
use = probe

[app:app]
use = probeapp
colour = blue
`), 0o644)
	reg := testRegistry(t)
	var passed, got *http.Request
	var inFilter, inApp *deploy.RequestConfig
	reg.AddFilter("probe", func(c *registry.Config) (func(http.Handler) http.Handler, error) {
		return func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inFilter, passed = deploy.ConfigFrom(r.Context()), r
				h.ServeHTTP(w, r)
			})
		}, nil
	}, "test")
	reg.AddApp("probeapp", func(c *registry.Config) (http.Handler, error) {
		c.String("colour", "")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inApp, got = deploy.ConfigFrom(r.Context()), r
		}), nil
	}, "test")
	for _, tc := range []struct {
		name      string
		sameReq   bool // the app gets the filter's request itself
		filterCfg bool // the filter sees the app's config
	}{
		{"main", true, true},
		{"wrapped", true, true},
		{"mapped", false, false},
	} {
		app, err := deploy.BuildApp(p, tc.name, deploy.Options{Registry: reg, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		passed, got, inFilter, inApp = nil, nil, nil, nil
		ctx := deploy.ConnContext(context.Background(), app.Handler)
		r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		app.Handler.ServeHTTP(httptest.NewRecorder(), r)
		if inApp == nil || inApp.Section != "app:app" || inApp.Local["colour"] != "blue" {
			t.Errorf("%s: the app sees config %+v", tc.name, inApp)
		}
		if (got == passed) != tc.sameReq {
			t.Errorf("%s: the app got the filter's request itself: %v, want %v", tc.name, got == passed, tc.sameReq)
		}
		if (inFilter != nil && inFilter.Section == "app:app") != tc.filterCfg {
			t.Errorf("%s: the filter sees config %+v", tc.name, inFilter)
		}
	}
}
