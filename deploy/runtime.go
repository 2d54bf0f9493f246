package deploy

import (
	"context"
	"fmt"
	"net"
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
	if rc, _ := r.Context().Value(configKey{}).(*RequestConfig); rc == c.rc {
		// The connection's context carries it already (ConnContext).
		c.h.ServeHTTP(w, r)
		return
	}
	// The request copy and its context in one allocation: WithContext
	// is inlined and its own copy stays on the stack.
	x := &configRequest{ctx: configCtx{Context: r.Context(), rc: c.rc}}
	x.req = *r.WithContext(&x.ctx)
	c.h.ServeHTTP(w, &x.req)
}

// configRequest is a request carrying an app's config and its context.
type configRequest struct {
	req http.Request
	ctx configCtx
}

// configCtx is WithConfig's context, built without context.WithValue's
// separate allocation.
type configCtx struct {
	context.Context
	rc *RequestConfig
}

func (c *configCtx) Value(key any) any {
	if key == (configKey{}) {
		return c.rc
	}
	return c.Context.Value(key)
}

func (c *configCtx) String() string {
	return fmt.Sprint(c.Context) + ".WithValue(deploy.configKey, " + c.rc.Section + ")"
}

// ConnContext returns ctx carrying the config of h when h is an app as
// deploy built it, alone or behind filters (a pipeline, a filter-app). A
// server that derives its connections' contexts from it
// (http.Server.ConnContext) spares the app a copy of every request: the
// app sees its own config there already. Any other h gets ctx back.
func ConnContext(ctx context.Context, h http.Handler) context.Context {
	if rc := appConfig(h); rc != nil {
		return WithConfig(ctx, rc)
	}
	return ctx
}

// appConfig returns the config of the app h is or ends in, or nil.
func appConfig(h http.Handler) *RequestConfig {
	switch c := h.(type) {
	case *withConfig:
		return c.rc
	case *filtered:
		return c.rc
	}
	return nil
}

// filtered is one app behind filters: it serves as the filters do and,
// as the app alone would, gives each connection the app's config, so that
// the app finds it in every request's context instead of copying the
// request to add it. The filters in front see the app's config too.
type filtered struct {
	http.Handler
	rc *RequestConfig
}

// passConfig returns h, the filters around app, with app's connection
// context when app is one app deploy built (or itself such a chain).
func passConfig(h, app http.Handler) http.Handler {
	if rc := appConfig(app); rc != nil {
		return &filtered{Handler: h, rc: rc}
	}
	return h
}

// ConnContext returns ctx carrying the app's config.
func (f *filtered) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return WithConfig(ctx, f.rc)
}

// ConnContext returns ctx carrying the app's config; a server calls it
// once per connection (http.Server.ConnContext, server.Swap).
func (c *withConfig) ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return WithConfig(ctx, c.rc)
}

// Unwrap returns the app itself.
func (c *withConfig) Unwrap() http.Handler { return c.h }
