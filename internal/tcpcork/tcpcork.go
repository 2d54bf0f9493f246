// Package tcpcork lets a handler send a large response in full TCP
// segments, as nginx's tcp_nopush does.
//
// net/http writes a response head, then hands a file body to the
// connection's ReadFrom (sendfile). The connection has TCP_NODELAY (Go's
// default), so the kernel transmits the head alone and then what each step
// of sendfile queues as soon as it can: many segments smaller than the
// largest the path takes, each costing the receiver a wake-up and a read.
// With TCP_CORK set from before the head until the body is sent, every
// segment but the last is full; clearing it sends the last at once.
//
// A cork holds a partial segment for up to 200 ms, so only a response
// written whole at once may be corked (a file, not a stream), and it must
// be uncorked when it ends. The server that accepted the connection puts
// a [Corker] in the connection's context ([With]); a handler calls
// [During] around such a response. Without a Corker (another server, TLS,
// HTTP/2, a unix socket) During does nothing.
package tcpcork

import (
	"context"
	"net/http"
)

// Min is the smallest response worth corking: below it the two system
// calls cost more than the fuller segments save.
const Min = 64 << 10

// A Corker sets or clears TCP_CORK on the connection it stands for.
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
