// Command uwsgiworker is hellosrv over uwsgi: gopaste's uwsgi.Server
// answering every request with "Hello, World!\n". It serves the socket it
// inherits as fd 3 (LISTEN_FDS, what the process app passes) or, without
// one, listens on -addr; the process-uwsgi scenario runs it behind the
// process app (which keeps its connections: uwsgi keep-alive, gopaste's
// extension) and behind nginx uwsgi_pass (a connection per request). It logs its address as gopaste
// does: addr=HOST:PORT.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"

	"github.com/gopaste/gopaste/proc"
	"github.com/gopaste/gopaste/uwsgi"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on when no socket is inherited")
	flag.Parse()
	body := []byte("Hello, World!\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(body)
	})
	ls, err := proc.Listeners()
	if err != nil {
		log.Fatal(err)
	}
	var l net.Listener
	if len(ls) > 0 {
		l = ls[0]
	} else if l, err = net.Listen("tcp", *addr); err != nil {
		log.Fatal(err)
	}
	log.Printf("listening addr=%s", l.Addr())
	log.Fatal((&uwsgi.Server{Handler: h}).Serve(l))
}
