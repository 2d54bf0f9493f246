// Package requestid gives every request an id: it takes a sane one from an
// incoming header (X-Request-Id by default) or makes a new one, puts it in
// the request's context behind [From], echoes it in the response header,
// and lets log records carry it through [LogHandler].
//
// The filter costs one allocation per request that brings its id (the
// copy of the request that carries it, together with the context value),
// and one more, the id, when it makes one.
package requestid

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/textproto"
)

// DefaultHeader is the header the id is read from and written to.
const DefaultHeader = "X-Request-Id"

// MaxLen is the longest incoming id accepted; longer ones are replaced.
const MaxLen = 128

// Options configure the filter. The zero value is ready to use.
type Options struct {
	// Header is the request and response header holding the id;
	// empty means DefaultHeader.
	Header string
	// IgnoreIncoming makes a new id for every request even when the
	// client (or a proxy in front) sent one.
	IgnoreIncoming bool
	// NoResponseHeader keeps the id out of the response headers.
	NoResponseHeader bool
	// RequestHeader also sets a generated id in the request's header, so
	// that proxied backends receive it. It costs a copy of the header
	// map; an incoming id is there already.
	RequestHeader bool
}

// idLen is the length of a generated id: a UUID (version 4) in its usual
// 36-character text form.
const idLen = 36

// idCtx is the context value: it carries the id and the one-element
// slice the response header uses.
type idCtx struct {
	context.Context
	id  string
	hdr [1]string
}

type ctxKey struct{}

// idRequest is the request the next handler gets and its context, in one
// allocation.
type idRequest struct {
	req http.Request
	ctx idCtx
}

func (c *idCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func (c *idCtx) String() string { return fmt.Sprint(c.Context) + ".WithRequestID(" + c.id + ")" }

// From returns the request id carried by ctx, or "" when there is none.
func From(ctx context.Context) string {
	if c, ok := ctx.Value(ctxKey{}).(*idCtx); ok {
		return c.id
	}
	return ""
}

// With returns a context carrying id. Tests and other filters use it; the
// filter itself builds the context without a second allocation.
func With(ctx context.Context, id string) context.Context {
	return &idCtx{Context: ctx, id: id}
}

// Generate makes a fresh id: a random (version 4) UUID.
func Generate() string {
	hi, lo := rand.Uint64(), rand.Uint64()
	hi = hi&^(0xf<<12) | 4<<12   // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	var b [idLen]byte
	j := 0
	for i, v := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[v>>4], hexDigits[v&0xf]
		j += 2
	}
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

// Valid reports whether s is acceptable as an incoming id: 1 to MaxLen
// bytes of letters, digits and "-_.:+/=@". Anything else (spaces, quotes,
// control bytes) could break log lines or headers, and is replaced.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > MaxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '+', c == '/', c == '=', c == '@':
		default:
			return false
		}
	}
	return true
}

// New returns the filter. It fails when the header name is not a valid
// HTTP field name.
func New(o Options) (func(http.Handler) http.Handler, error) {
	h := o.Header
	if h == "" {
		h = DefaultHeader
	}
	if !validFieldName(h) {
		return nil, fmt.Errorf("requestid: %q is not a valid header name", h)
	}
	h = textproto.CanonicalMIMEHeaderKey(h)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The request copy and the context value share one
			// allocation: WithContext's own copy stays on the stack.
			x := &idRequest{}
			c := &x.ctx
			c.Context = r.Context()
			incoming := false
			if v := r.Header[h]; !o.IgnoreIncoming && len(v) == 1 && Valid(v[0]) {
				c.id, incoming = v[0], true
			} else {
				c.id = Generate()
			}
			if !o.NoResponseHeader {
				c.hdr[0] = c.id
				w.Header()[h] = c.hdr[:]
			}
			x.req = *r.WithContext(c)
			r2 := &x.req
			if o.RequestHeader && !incoming {
				r2.Header = r.Header.Clone()
				if r2.Header == nil {
					r2.Header = make(http.Header)
				}
				r2.Header[h] = []string{c.id}
			}
			next.ServeHTTP(w, r2)
		})
	}, nil
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '"' || c == '(' || c == ')' || c == ',' ||
			c == '/' || c == ';' || c == '<' || c == '=' || c == '>' || c == '?' || c == '@' ||
			c == '[' || c == '\\' || c == ']' || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// LogHandler wraps h so that every record logged with a context carrying
// a request id (logger.InfoContext(r.Context(), ...)) gets a "request_id"
// attribute.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := From(ctx); id != "" {
		rec = rec.Clone()
		rec.AddAttrs(slog.String("request_id", id))
	}
	return l.Handler.Handle(ctx, rec)
}

func (l logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(as)}
}

func (l logHandler) WithGroup(name string) slog.Handler {
	return logHandler{l.Handler.WithGroup(name)}
}
