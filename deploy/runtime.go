package deploy

import (
	"context"
	"net/http"
)

// RequestConfig is the config of the app serving a request: the global
// config ([DEFAULT] plus set keys) and the app's local keys, as its
// factory received them. Treat the maps as read-only.
type RequestConfig struct {
	Section string // "app:blog"
	File    string
	Global  map[string]string
	Local   map[string]string
}

type configKey struct{}

// ConfigFrom returns the config of the app serving the request whose
// context is ctx, or nil outside a deployed app.
func ConfigFrom(ctx context.Context) *RequestConfig {
	rc, _ := ctx.Value(configKey{}).(*RequestConfig)
	return rc
}

// WithConfig returns ctx carrying rc.
func WithConfig(ctx context.Context, rc *RequestConfig) context.Context {
	return context.WithValue(ctx, configKey{}, rc)
}

// withConfig puts rc into every request's context before h runs.
type withConfig struct {
	h  http.Handler
	rc *RequestConfig
}

func (c *withConfig) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.h.ServeHTTP(w, r.WithContext(WithConfig(r.Context(), c.rc)))
}

// Unwrap returns the app itself.
func (c *withConfig) Unwrap() http.Handler { return c.h }
