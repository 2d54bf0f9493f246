// Package cgi speaks CGI (RFC 3875) in both directions.
//
// [Handler] hosts CGI scripts, as Paste's paste.cgiapp and Apache's
// mod_cgi do: one script, or a directory of them where the first path
// segments that name a file select the script and the rest becomes
// PATH_INFO. Each request runs the script in a process group of its own,
// with the CGI variables of internal/cgivars (the mapping every gopaste
// gateway shares) and only the environment variables the config names;
// the script's output streams to the client as it arrives, its stderr goes
// to the log, and a timeout kills the whole group.
//
// The runner is written here rather than on net/http/cgi.Handler: that
// handler has no timeout, no process group (a script's children outlive
// it), no flushing of partial output, inherits PATH and LD_LIBRARY_PATH
// from the server, and answers 500 where a misbehaving script is a 502.
//
// [Server] is the other direction: gopaste run as a CGI program by a web
// server (Apache mod_cgi, fcgiwrap, or this package's Handler) serves
// exactly one request from its environment and stdin and writes CGI output
// ("Status:" line, headers, body) to stdout, as net/http/cgi.Serve does,
// but with the request built by internal/cgivars so that SCRIPT_NAME
// reaches handlers as the mount point.
//
// The cgi2scgi subpackage is the gopaste cgi2scgi command.
package cgi
