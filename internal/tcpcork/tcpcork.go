// Package tcpcork lets a handler send a large response's head with the
// start of its body, as nginx's tcp_nopush does.
//
// net/http writes a response head, then hands a file body to the
// connection's ReadFrom (sendfile). The connection has TCP_NODELAY (Go's
// default), so the kernel transmits the head in a segment of its own, and
// the client is woken for it and again for the body. gopaste's HTTP
// server, corked, writes the head with MSG_MORE: it waits in the socket
// for the body, whose last piece sendfile sends without the flag, which
// pushes all out (server/cork.go).
//
// What is held waits up to about 200 ms when nothing follows, so only a
// response written whole at once may be corked (a file, not a stream),
// and it must be uncorked when it ends: uncorking pushes a head still
// held. The server that accepted the connection puts a [Corker] in the
// connection's context ([With]); a handler calls [During] around such a
// response. Without a Corker (another server, TLS, HTTP/2, a unix
// socket) During does nothing.
package tcpcork

import (
	"context"
	"net/http"
)

// Min is the smallest response worth corking: the static app's memory
// cache keeps smaller files and writes each with its head, and for
// others one more segment costs little.
const Min = 64 << 10

// A Corker holds back (on) the next write on the connection it stands
// for until more follows, or ends that (off), pushing what is held.
type Corker interface {
	Cork(on bool)
}

type key struct{}

// With returns ctx carrying c, the connection's Corker.
func With(ctx context.Context, c Corker) context.Context {
	return context.WithValue(ctx, key{}, c)
}

// During corks the connection of HTTP/1 request r, when it has a
// Corker, and returns the function that uncorks it. Call it before the
// response's head is written and the function once the body is. An
// HTTP/2 connection is never corked: its other streams share it.
func During(r *http.Request) (uncork func()) {
	c, _ := r.Context().Value(key{}).(Corker)
	if c == nil || r.ProtoMajor != 1 {
		return func() {}
	}
	c.Cork(true)
	return func() { c.Cork(false) }
}
