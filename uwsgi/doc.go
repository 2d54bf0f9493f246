// Package uwsgi implements the uwsgi protocol of the uWSGI project: a
// [Server] that serves an http.Handler to nginx (uwsgi_pass), Apache
// (mod_proxy_uwsgi) and other uwsgi clients, and a [Transport] that sends
// requests to uwsgi backends such as uWSGI itself.
//
// A request is a packet: a 4-byte header (modifier1, a little-endian 16-bit
// size, modifier2), a block of CGI variables as 16-bit length-prefixed
// name/value pairs, then CONTENT_LENGTH bytes of body. The reply is an HTTP
// response (status line, headers, body) ended by closing the connection.
// See https://uwsgi-docs.readthedocs.io/en/latest/Protocol.html.
//
// Only requests with modifier1 0 (WSGI/CGI variables) and 30 (the same,
// with SCRIPT_NAME removed from PATH_INFO) are served; the other packet
// types of uWSGI (its cache, signals, spooler, routers) are not
// implemented. The server always answers with an HTTP status line, which
// Apache's mod_proxy_uwsgi requires.
//
// Keep-alive is gopaste's extension, between its Transport (with
// KeepAlive, as the process and wsgi apps use it) and its Server or
// Python worker: the client adds the variable [KeepAliveVar]; a server
// that knows it frames its reply (Content-Length or chunked), says
// "Connection: keep-alive" and reads the next packet on the connection.
// Without the variable (nginx, Apache) or from a server that ignores it
// (uWSGI), it is one request per connection as above. See
// docs/protocols.md, "uwsgi keep-alive".
package uwsgi
