// Package scgi implements the SCGI protocol (Neil Schemenauer's "SCGI: A
// Simple Common Gateway Interface alternative", 2008) in both directions:
// [Server] serves an http.Handler to web servers that speak SCGI (nginx
// scgi_pass, Apache mod_proxy_scgi, lighttpd), and [Transport] is an
// http.RoundTripper that sends requests to SCGI backends (uWSGI
// --scgi-socket, Perl SCGI, flup, Python scgi).
//
// netstring.go holds the wire format (the header netstring) and imports
// no HTTP; the mapping between CGI variables and requests is
// internal/cgivars, shared with the other gateway protocols.
//
// The protocol has one request per connection and no keep-alive: the
// client sends "LEN:" then NUL-terminated name/value pairs (CONTENT_LENGTH
// first, SCGI=1 among them), "," and CONTENT_LENGTH bytes of body; the
// server replies and closes the connection. The reply format is not part
// of the protocol: Server writes CGI style ("Status: 200 OK" and headers),
// the only form Apache's mod_proxy_scgi accepts; Transport reads that and
// HTTP status lines too.
//
// Not supported: repeated SCGI requests on one connection (no client or
// server does that), and interim 1xx replies.
package scgi
