package server

import "github.com/gopaste/gopaste/registry"

// The servers existing PasteDeploy files name. Both are the http server;
// deploy translates their keys (waitress's listen and threads,
// gunicorn's bind, workers and timeout, ...) to gopaste's server keys,
// the Python sections' wsgi keys and the handler around the app, and
// reports the keys gopaste cannot honour with the nearest equivalent
// (see deploy/python_server.go and docs/wsgi.md).
func init() {
	registry.RegisterServer("waitress", httpFactory,
		"the http server, taking waitress's keys (listen, host, port, threads, url_scheme, trusted_proxy, ...)",
		"egg:waitress#main", "egg:waitress")
	registry.RegisterServer("gunicorn", httpFactory,
		"the http server, taking gunicorn's keys (bind, workers, threads, timeout, graceful_timeout, max_requests, ...)",
		"egg:gunicorn#main", "egg:gunicorn")
}
