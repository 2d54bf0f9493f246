// Package server turns a handler into a running server: listeners (TCP or
// unix sockets, peer allow-lists), the concurrency models (threaded with a
// bounded queue, sync), protocol sniffing for "protocol = auto", graceful
// shutdown and the handler swap that live reload uses.
//
// Protocol packages (scgi, uwsgi, fastcgi, and HTTP here) register a
// registry.Protocol from init (its factory, sniff bytes and order); [Server]
// looks them up by name in its registry, so a server section of any
// protocol is served by the same code. A protocol server is anything
// with the two methods of *http.Server that this package uses: [Serving].
//
// What is not here yet: the prefork model (N processes sharing a listener)
// and zero-downtime binary restart.
package server
