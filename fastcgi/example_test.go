package fastcgi_test

import (
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/gopaste/gopaste/fastcgi"
)

// A handler served over FastCGI, reached through the pooled Transport.
func Example() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &fastcgi.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
	})}
	go srv.Serve(l)
	defer srv.Close()

	tr := &fastcgi.Transport{Addr: l.Addr().String(), MaxConns: 2}
	defer tr.Close()
	client := &http.Client{Transport: tr}
	for _, path := range []string{"/one?a=1", "/two?b=2"} {
		resp, err := client.Get("http://example.com" + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	// Output:
	// 200 GET /one?a=1
	// 200 GET /two?b=2
}

// How a PHP-style path is cut into the script and PATH_INFO.
func ExampleScript_Split() {
	s := fastcgi.Script{DocumentRoot: "/srv/www", Index: "index.php", SplitPath: []string{".php"}}
	for _, p := range []string{"/", "/blog/post.php/2024/hello", "/INDEX.PHP"} {
		script, info, _ := s.Split(p)
		fmt.Printf("%s -> %s %q\n", p, script, info)
	}
	// Output:
	// / -> /index.php ""
	// /blog/post.php/2024/hello -> /blog/post.php "/2024/hello"
	// /INDEX.PHP -> /INDEX.PHP ""
}
