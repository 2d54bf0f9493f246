// Command floorsrv is the least a Go program on net/http and net does to
// relay a request to a backend, or to answer with a file: the floor under
// gopaste in the proxy-http, scgi-proxy, uwsgi-proxy and static-small
// scenarios. It has none of a proxy's duties (no header copying or
// hop-by-hop removal, no CGI variables beyond a fixed few, no reply
// parsing beyond the head's end, no timeouts, retries or logs) and none
// of a file server's (no path, no validators, ranges or conditional
// requests), so what it costs a request is what any server built on the
// same packages pays at least.
//
//	-mode http   keeps up to 64 HTTP/1.1 connections to -backend and
//	             reads each reply with net/http's ReadResponse;
//	-mode scgi   dials -backend for each request, as SCGI needs, writes
//	             a fixed request and reads the reply to EOF;
//	-mode uwsgi  the same with a uwsgi packet;
//	-mode file   answers every request with the bytes of -file, read
//	             once at start, and their type and length.
//
// It logs its address as gopaste does: addr=HOST:PORT.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gopaste/gopaste/scgi"
	"github.com/gopaste/gopaste/uwsgi"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	backend := flag.String("backend", "", "the backend's host:port")
	mode := flag.String("mode", "http", "http, scgi, uwsgi or file")
	file := flag.String("file", "", "the file answered in mode file")
	flag.Parse()
	var h http.Handler
	switch *mode {
	case "file":
		b, err := os.ReadFile(*file)
		if err != nil {
			log.Fatal(err)
		}
		typ := []string{mime.TypeByExtension(filepath.Ext(*file))}
		length := []string{strconv.Itoa(len(b))}
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = typ
			w.Header()["Content-Length"] = length
			w.Write(b)
		})
	case "http":
		h = &httpRelay{backend: *backend, idle: make(chan *upstream, 64)}
	case "scgi", "uwsgi":
		// A connection that never idles needs no keep-alive probes.
		h = &onceRelay{backend: *backend, uwsgi: *mode == "uwsgi", dialer: net.Dialer{KeepAlive: -1}}
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening addr=%s", l.Addr())
	log.Fatal(http.Serve(l, h))
}

type upstream struct {
	c  net.Conn
	br *bufio.Reader
}

// httpRelay sends every request as a GET of its path over a kept
// connection.
type httpRelay struct {
	backend string
	idle    chan *upstream
}

func (p *httpRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var u *upstream
	select {
	case u = <-p.idle:
	default:
		c, err := net.Dial("tcp", p.backend)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		u = &upstream{c: c, br: bufio.NewReader(c)}
	}
	if _, err := io.WriteString(u.c, "GET "+r.URL.RequestURI()+" HTTP/1.1\r\nHost: "+p.backend+"\r\n\r\n"); err != nil {
		u.c.Close()
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	res, err := http.ReadResponse(u.br, nil)
	if err != nil {
		u.c.Close()
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	h := w.Header()
	h["Content-Type"] = res.Header["Content-Type"]
	h["Content-Length"] = res.Header["Content-Length"]
	w.WriteHeader(res.StatusCode)
	_, err = io.Copy(w, res.Body)
	res.Body.Close()
	if err != nil || res.Close {
		u.c.Close()
		return
	}
	select {
	case p.idle <- u:
	default:
		u.c.Close()
	}
}

// onceRelay sends every request on a connection of its own and reads the
// reply until the backend closes it, as SCGI and uwsgi do.
type onceRelay struct {
	backend string
	uwsgi   bool
	dialer  net.Dialer
}

func (p *onceRelay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// scgi.Var and uwsgi.Var are the same pair type.
	vars := []scgi.Var{
		{Name: "CONTENT_LENGTH", Value: "0"},
		{Name: "REQUEST_METHOD", Value: r.Method},
		{Name: "REQUEST_URI", Value: r.URL.RequestURI()},
		{Name: "PATH_INFO", Value: r.URL.Path},
		{Name: "QUERY_STRING", Value: r.URL.RawQuery},
		{Name: "SERVER_PROTOCOL", Value: r.Proto},
		{Name: "SERVER_NAME", Value: "127.0.0.1"},
		{Name: "SERVER_PORT", Value: "80"},
		{Name: "REMOTE_ADDR", Value: "127.0.0.1"},
		{Name: "HTTP_HOST", Value: r.Host},
	}
	// The protocols' own encoders: plain byte builders, not a proxy's
	// work.
	var req []byte
	var err error
	if p.uwsgi {
		req, err = uwsgi.AppendPacket(nil, 0, 0, vars)
	} else {
		req, err = scgi.AppendHeaders(nil, vars)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	c, err := p.dialer.DialContext(r.Context(), "tcp", p.backend)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer c.Close()
	if _, err := c.Write(req); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	reply, err := io.ReadAll(c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	_, body, ok := bytes.Cut(reply, []byte("\r\n\r\n"))
	if !ok {
		http.Error(w, "no head in the reply", http.StatusBadGateway)
		return
	}
	w.Header()["Content-Type"] = []string{"text/plain"}
	w.Write(body)
}
