// Command hellosrv is the plain net/http hello world the benchmarks compare
// gopaste with, and the backend the proxy scenarios forward to. It answers
// every request with "Hello, World!\n", as gopaste's text app does, and
// logs its address as gopaste does: addr=HOST:PORT.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
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
	log.Fatal(http.Serve(l, nil))
}
