package gateway

import (
	"net/http"
	"strings"
)

// hopByHop are the headers that describe one connection, not the message
// (RFC 9110 §7.6.1), in canonical form, plus Proxy-Connection, which
// clients still send. Neither side of a gateway passes them on.
var hopByHop = map[string]bool{
	"Connection":        true,
	"Keep-Alive":        true,
	"Proxy-Connection":  true,
	"Te":                true,
	"Trailer":           true,
	"Transfer-Encoding": true,
	"Upgrade":           true,
}

// IsHopByHop reports whether the header named by the canonical key name
// is hop-by-hop: a gateway reply never carries it, in either direction.
func IsHopByHop(name string) bool { return hopByHop[name] }

// RemoveHopByHop deletes from h the hop-by-hop headers and those that the
// Connection header names.
func RemoveHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for name := range hopByHop {
		delete(h, name)
	}
}
