package server

import (
	"io"
	"os"
)

// This file sends large files in full TCP segments, as nginx's
// tcp_nopush does.
//
// net/http hands a file body to the connection's ReadFrom, which sends it
// with sendfile. The connection has TCP_NODELAY (Go's default), so the
// kernel transmits what each step of sendfile queues as soon as it can:
// many segments smaller than the loopback's or the path's largest, each
// costing the receiver a wake-up and a read. With TCP_CORK set for the
// length of the sendfile, every segment but the last is full; clearing
// it sends the last at once. On the 1 MiB file of bench/'s static-large
// scenario this took the CPU the machine spends a request (server and
// client) from about 1 070 to 905 µs (docs/benchmarks.md, "static-large
// and TCP_CORK"). Only regular files of at least corkMin bytes, sent with
// a known length (http.ServeContent's io.CopyN), are corked: a cork holds
// a partial segment up to 200 ms, so nothing that streams (a pipe, a
// proxied body) may be sent that way, and for a small file the two
// setsockopt calls would cost more than they save.

// corkMin is the smallest file body sent corked.
const corkMin = 64 << 10

// largeFile reports whether r is a regular file of at least corkMin
// bytes, limited to a length (as io.CopyN passes it).
func largeFile(r io.Reader) bool {
	lr, ok := r.(*io.LimitedReader)
	if !ok || lr.N < corkMin {
		return false
	}
	f, ok := lr.R.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}
