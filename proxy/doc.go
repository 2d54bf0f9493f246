// Package proxy is the gateway app every protocol client sits behind: an
// http.Handler that spreads requests over several backends, each reached
// through an http.RoundTripper of its protocol (scgi.Transport,
// uwsgi.Transport, fastcgi.Transport or an http.Transport).
//
// Which requests take which path:
//
//   - The gateway protocols' proxies (RequireLength, no Rewrite) serve
//     every request without httputil.ReverseProxy (direct.go): their
//     transports turn the request into CGI variables themselves and their
//     replies come from gateway.ReadReply, so the handler drops from the
//     request the headers ReverseProxy would (hop-by-hop and those
//     Connection names, the proxy credentials, the client's Forwarded,
//     X-Forwarded-Host and -Proto), cleans the query as ReverseProxy
//     does, and copies the reply's head and body onto the
//     ResponseWriter, flushing a stream as it comes and aborting a reply
//     cut short, with none of ReverseProxy's copies of the request and
//     its headers.
//   - The http_proxy app (Options.HTTP) serves its plain requests the
//     same way: no body or one of known length, no Expect, not an upgrade
//     (plainHTTP). Their headers are ReverseProxy's end-to-end ones plus
//     http_proxy's rule (forwardHeader, which HTTPRewrite applies on the
//     other path), and they go to NewHTTPTransport's own HTTP/1.1 client
//     (httpclient.go): the head written and the reply read on the
//     handler's goroutine over a gateway.Pool of kept connections, the
//     reply parsed by gateway.Exchange in its HTTP mode (1xx heads passed
//     to the client through httptrace, as ReverseProxy does; trailers
//     passed on; keep-alive as HTTP/1.1 has it; a replayable request sent
//     again after a dead kept connection). A request the client cannot
//     write exactly as net/http would (a Host needing Punycode, a control
//     byte in a header...) goes on to net/http's Transport from there.
//   - Upgrades (WebSocket), uploads of unknown length, Expect:
//     100-continue and CONNECT through http_proxy, every request of a
//     proxy with a Rewrite, and every request with a positive
//     FlushInterval take httputil.ReverseProxy (over the same transport).
//
// What it adds, on both paths:
//
//   - balancing: round_robin or least_conn (fewest requests in flight);
//   - health: a backend that refuses a connection is ejected for a while
//     (passive); with HealthCheckInterval set, a GET of HealthCheckPath is
//     sent to every backend on that period and decides (active); ejected
//     backends come back when a check passes; when every backend is down,
//     all are tried rather than none;
//   - retries (up to Retries other backends): a request whose connection
//     was refused, or an idempotent one whose connection broke before the
//     reply head (the backend died under it), is sent to another backend
//     when no byte of its body was read;
//   - logs: a backend going down is logged once, with the reason
//     ("connection refused"), and coming back once, with how many
//     requests failed on it meanwhile, not one line per failed request;
//   - half-closed clients: the backend request is not cancelled when the
//     client shuts down its sending side, so it still gets the reply;
//   - bodies of unknown length (chunked uploads) for protocols that need a
//     CONTENT_LENGTH: spooled to a temp file up to MaxBodySpool (beyond it
//     413), or 411 Length Required when spooling is off;
//   - errors map to 502 (refused, malformed reply), 504 (timeout), 400
//     (a request the protocol cannot carry); the reason is logged, never
//     sent to the client.
//
// Every client dials through one place, [Backend.Dial] (or [DialAddr] for
// an address string): the SCGI, uwsgi and FastCGI Transports and the
// http_proxy transport (its client and net/http's Transport) alike. A connection that carries one request
// (SCGI, uwsgi) is dialled with [Backend.DialOnce] ([DialAddrOnce]),
// without TCP keep-alive probes.
//
// The ini keys every proxy app shares are read by [ReadOptions] in
// factory.go; the http_proxy app is registered there too.
package proxy
