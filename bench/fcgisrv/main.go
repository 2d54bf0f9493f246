// Command fcgisrv is hellosrv over FastCGI: Go's net/http/fcgi answering
// every request with "Hello, World!\n", the handler the fastcgi-server
// scenarios put behind nginx fastcgi_pass next to gopaste's fastcgi
// server. It logs its address as gopaste does: addr=HOST:PORT.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/fcgi"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	body := []byte("Hello, World!\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(body)
	})
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening addr=%s", l.Addr())
	log.Fatal(fcgi.Serve(l, h))
}
