// Package process runs backend worker processes in any language and
// sends them requests: the `process` app, and the supervisor the `wsgi`
// app builds on.
//
// A [Pool] starts Workers copies of a command. Each gets its own socket:
// either gopaste opens it (a unix socket in a runtime directory, or a
// loopback TCP port) and passes it as fd 3 with LISTEN_FDS and
// LISTEN_PID set, as systemd's socket activation does, or the command
// names {socket} or {port} and binds it itself. A worker is ready when a
// request to it answers (a socket gopaste opened accepts connections
// before the worker does) or, for a socket the worker binds, when a
// connection succeeds. Requests are then sent over the worker's protocol
// (http, scgi, uwsgi or fastcgi) through the same transports and reverse
// proxy as the gateway apps (package proxy); uwsgi workers are asked to
// keep their connections (uwsgi.Transport's KeepAlive), and at most
// Concurrency idle ones are kept per worker, closed before the worker is
// recycled or stopped.
//
// Scheduling: a request goes to the least busy ready worker (round robin
// among equals) that serves fewer than Concurrency requests; when none
// can take it, it waits in a queue of MaxQueue requests for at most
// QueueTimeout, and gets 503 when the queue is full or the wait too
// long. A worker that dies under a request (killed, crashed) has the
// request sent to another worker when the method is idempotent and
// nothing of the request body was read, else the client gets 502 and the
// log says why (the worker's pid and exit status).
//
// Lifecycle: the supervisor (proc.Restart per worker slot) restarts a
// worker that exits, with a growing delay when it keeps dying. A worker
// is recycled — no new requests, stopped once its in-flight requests are
// done, replaced at once — after MaxRequests requests or when its
// resident memory (VmRSS, from /proc) passes MemoryLimit. Timeout (soft)
// answers 504 to a request whose worker has not begun its reply, and
// logs it; the worker stays busy until it finishes that request.
// HardTimeout kills the worker of a request running longer, after
// sending StackSignal so that the worker writes its stack to the log
// (SIGQUIT for Go, a faulthandler signal for Python), and logs the
// request's method, path and duration. Workers' output goes to the log,
// a line per record with the worker's pid.
//
// New starts every worker and waits until all are ready: a command that
// cannot start gives an error with the end of its standard error. Close
// waits for the requests in flight, then stops the workers with
// StopSignal, killing them after GracefulTimeout.
package process
