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
// Processes: [Prefork] is the master of the prefork model (worker
// processes re-executing this program, each inheriting the listener);
// [Upgrade] hands the listener to a new binary and waits until it is
// ready; [Inherit] is the child's side of both. [Drain] stops accepting
// before a handed-over server shuts down, so that no accepted connection
// is dropped.
package server
