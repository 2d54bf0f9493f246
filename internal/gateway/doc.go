// Package gateway is what every gateway protocol (SCGI, uwsgi, FastCGI,
// CGI) shares, written once: the server side of a reply and the client
// side of reading one.
//
// Server side:
//
//   - [Writer] is the one http.ResponseWriter of the scgi, uwsgi, fastcgi
//     and cgi servers. It is parametrised by how the head is written
//     ([CGIHead]: a "Status: 200 OK" line, for SCGI, FastCGI and CGI;
//     [HTTPHead]: an "HTTP/1.1 200 OK" line, for uwsgi) and by where the
//     bytes go (a [Sink]: the connection, or FastCGI STDOUT records).
//     It holds back the first [BufferLimit] bytes of the body so that a
//     short reply gets a Content-Length and a sniffed Content-Type.
//     Interim (1xx) responses are never sent: see [Writer.WriteHeader].
//     Hop-by-hop headers ([IsHopByHop]) are not sent: framing the reply
//     for the client is the web server's job.
//   - [Run] calls the handler and recovers a panic: a 500 when nothing has
//     been sent yet, an abort otherwise, with the stack and the request id
//     in the log; http.ErrAbortHandler aborts without a log line.
//   - [WatchClose] cancels a request's context when the web server closes
//     the connection, as net/http does when its client goes away.
//   - [Drain] reads what the handler left unread of a request body, up
//     to [MaxDrain] bytes for at most [DrainTimeout], after the reply:
//     closing a socket with unread input sends a reset, and a reset makes
//     the web server drop the reply it has not read yet.
//   - [Conn] puts these together for a connection that carries one
//     request (SCGI, uwsgi): pooled buffers, the close watch, the drain.
//     On a uwsgi connection kept for more requests (gopaste's uwsgi
//     keep-alive), [Writer.KeepAlive] frames the reply (Content-Length or
//     chunked) and says "Connection: keep-alive", and [Conn.Next] ends
//     the request and readies the connection for the next one.
//   - [HeaderTimeout] and [IdleTimeout] give the servers their default
//     read limits (one minute each).
//
// The package gatewaytest is the conformance suite every server runs.
//
// Client side:
//
//   - [ReadReply] is the one parser of a backend's reply, used by the
//     scgi, uwsgi and fastcgi Transports, the cgi app and (through the
//     scgi Transport) cgi2scgi: CGI style (RFC 3875 §6) or an HTTP status
//     line, one status range (200-999), local redirects as 302s, a header
//     cap ([ErrHeaderTooLarge]), hop-by-hop headers removed.
//   - [Exchange] runs a request over a connection of its own that the
//     backend closes to end the reply (SCGI, uwsgi): the body written
//     concurrently, the response header timeout, cancellation, and
//     [ShortReply] to give a short reply a Content-Length. Connections
//     come from proxy.DialAddr, the one dialer of every client.
//   - [Exchange.RoundTripPool] is the same over a connection of a [Pool]
//     of idle ones, for a backend that agrees to keep it (uwsgi
//     keep-alive): the connection goes back to the pool once the reply,
//     acked with "Connection: keep-alive", has been read to its framed
//     end.
//   - [Exchange.HTTP] reads an HTTP/1.x server's replies instead, as
//     net/http does (http1.go): for http_proxy's client, which writes its
//     own HTTP/1.1 request heads over a [Pool]; [PeekAlive] checks an
//     idle connection's socket before it is reused.
//
// This package does not speak a protocol: the framing of each lives in
// its own package.
package gateway
