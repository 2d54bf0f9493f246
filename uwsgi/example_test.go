package uwsgi_test

import (
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/gopaste/gopaste/uwsgi"
)

// A handler served over uwsgi, reached through the uwsgi Transport: the
// request crosses the protocol and back.
func Example() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &uwsgi.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
	})}
	go srv.Serve(l)
	defer srv.Close()

	client := &http.Client{Transport: &uwsgi.Transport{Addr: l.Addr().String()}}
	resp, err := client.Get("http://example.com/hello?name=gopher")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(string(body))
	// Output:
	// 200 OK
	// GET /hello?name=gopher
}

// The wire format of a request packet: the header, then each variable as
// a little-endian length and its bytes.
func ExampleAppendPacket() {
	b, err := uwsgi.AppendPacket(nil, 0, 0, []uwsgi.Var{{Name: "REQUEST_METHOD", Value: "GET"}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", b)
	// Output:
	// "\x00\x15\x00\x00\x0e\x00REQUEST_METHOD\x03\x00GET"
}
