package cgi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/cgi"
	"github.com/gopaste/gopaste/mount"
)

// A CGI program serving one request: the web server's variables in, CGI
// output out. The script's URL is the handler's mount point.
func ExampleServer() {
	var out bytes.Buffer
	s := &cgi.Server{
		Env: []string{
			"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1.1",
			"SCRIPT_NAME=/cgi-bin/app", "PATH_INFO=/hello", "QUERY_STRING=x=1",
		},
		Stdin:  strings.NewReader(""),
		Stdout: &out,
	}
	s.Run(context.Background(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s under %s, x=%s\n", r.URL.Path, mount.ScriptName(r.Context()), r.FormValue("x"))
	}))
	fmt.Print(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	// Output:
	// Status: 200 OK
	// Content-Length: 31
	// Content-Type: text/plain
	//
	// /hello under /cgi-bin/app, x=1
}
