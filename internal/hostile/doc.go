// Package hostile holds gopaste's tests that play the attacker across
// packages, over real loopback sockets, against the servers and proxies
// as the registry builds them (issue 12's "corpus and numbers"):
//
//   - TestHTTPCorpus sends every request of testdata/http1 (invalid
//     HTTP/1.x from RFC 9110/9112 and request smuggling attempts, each
//     with its expected outcome) to the http server and through
//     http_proxy, scgi_proxy, uwsgi_proxy and fastcgi_proxy, each in front
//     of gopaste's own server of that protocol with an app that records
//     what it received: an invalid request gets a 4xx or its connection
//     closed, and nothing reaches an app in a way that desyncs it (a
//     pipelined request never seen as part of the previous body, a
//     smuggled request never served).
//   - TestMalformedUnderLoad sends malformed inputs (the packages' fuzz
//     corpora and deterministic mutations of valid requests) to the
//     scgi, uwsgi, fastcgi and http servers while valid requests keep
//     being answered: no panic, every valid request succeeds, and
//     goroutines and file descriptors come back to their baseline.
//
// docs/security.md ("The corpus and the numbers") reports the counts.
// The package has no code outside its tests.
package hostile
