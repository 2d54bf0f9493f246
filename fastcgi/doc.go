// Package fastcgi implements FastCGI 1.0 in both directions: a [Server]
// that serves an http.Handler to FastCGI clients (nginx fastcgi_pass,
// Apache mod_proxy_fcgi, cgi-fcgi), and a [Transport] that sends requests
// to FastCGI applications (PHP-FPM, uWSGI, fcgiwrap) over a bounded pool of
// connections.
//
// The record layer (record.go) follows the specification
// (https://fastcgi-archives.github.io/FastCGI_Specification.html):
// records padded to 8 bytes, name-value pairs with 1- or 4-byte lengths,
// BEGIN_REQUEST/ABORT_REQUEST/END_REQUEST, PARAMS, STDIN, STDOUT, STDERR,
// and the management records GET_VALUES and UNKNOWN_TYPE.
//
// Only the Responder role is served; Authorizer and Filter requests are
// answered with FCGI_UNKNOWN_ROLE. The server multiplexes requests on a
// connection and honours FCGI_KEEP_CONN. It is written for throughput: it
// reads through a buffer, runs a request whose body has fully arrived
// without a goroutine hand-off, and sends the last STDOUT, the empty STDOUT
// and END_REQUEST in one write.
package fastcgi
