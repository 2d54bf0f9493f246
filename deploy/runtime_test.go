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
