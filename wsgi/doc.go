// Package wsgi runs Python WSGI applications (PEP 3333) under gopaste:
// the `wsgi` app. It is the process supervisor of package process plus a
// small Python worker, one stdlib-only file embedded in the binary
// (worker.py) and written to a runtime directory at start.
//
// Each worker imports the application — module = pkg.mod:callable, or
// paste = config:FILE#NAME through PasteDeploy's loadapp — then serves
// it with a pool of threads accepting on the socket gopaste passes as
// fd 3 (LISTEN_FDS, LISTEN_PID). Requests reach it over the uwsgi
// protocol, one connection per request; the worker builds the environ
// from the packet's CGI variables (latin-1 strings, as PEP 3333 says),
// streams wsgi.input from the connection, and writes the reply as an
// HTTP/1.1 response as the application produces it (wsgi.file_wrapper
// uses os.sendfile for a regular file). An exception raised before the
// reply is an [AppError] reported with errorpage.Report: logged with its
// traceback, shown to the client only by the errors filter's debug page;
// wsgi.errors and anything else the application writes to stderr or
// stdout is logged with the worker's pid.
//
// Workers are supervised, recycled, timed out and reloaded as the
// process app's workers are (see package process): a hard timeout first
// sends the stack signal, on which the worker's faulthandler writes
// every thread's Python traceback to the log. With Preload, one Python
// process imports the application, then forks Workers children sharing
// its socket (gopaste supervises that process; it restarts its
// children and recycles them after MaxRequests or MemoryLimit itself).
//
// An application that cannot be imported stops New with an error that
// holds the Python traceback.
package wsgi
