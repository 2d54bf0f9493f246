// Command hellosrv is the plain net/http hello world the benchmarks compare
// gopaste with, and the backend the proxy scenarios forward to. It answers
// every request with "Hello, World!\n", as gopaste's text app does, and
// logs its address as gopaste does: addr=HOST:PORT. With -timeouts it
// has gopaste's default header and idle timeouts (a minute each), which
// a server facing clients needs and the bare one lacks.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	timeouts := flag.Bool("timeouts", false, "a minute's header and idle timeouts, as gopaste serve has")
	flag.Parse()
	body := []byte("Hello, World!\n")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(body)
	})
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening addr=%s", l.Addr())
	srv := &http.Server{}
	if *timeouts {
		srv.ReadHeaderTimeout, srv.IdleTimeout = time.Minute, time.Minute
	}
	log.Fatal(srv.Serve(l))
}
