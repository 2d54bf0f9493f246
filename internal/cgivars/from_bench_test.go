package cgivars

import (
	"net/http"
	"testing"
)

// BenchmarkFromRequest is the variables of a GET as wrk sends it (Host
// only) and as a browser does, with this hop's X-Forwarded headers.
func BenchmarkFromRequest(b *testing.B) {
	headers := map[string]http.Header{
		"wrk": {},
		"browser": {
			"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
			"Accept":          {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
			"Accept-Language": {"en-GB,en;q=0.5"},
			"Accept-Encoding": {"gzip, deflate, br, zstd"},
			"Cookie":          {"PHPSESSID=0123456789abcdef0123456789"},
			"Referer":         {"http://localhost:8080/"},
		},
	}
	for _, name := range []string{"wrk", "browser"} {
		b.Run(name, func(b *testing.B) {
			r, _ := http.NewRequest("GET", "http://localhost:8080/hello.php?a=1", nil)
			r.RequestURI = "/hello.php?a=1"
			r.RemoteAddr = "127.0.0.1:51234"
			r.Header = headers[name]
			b.ReportAllocs()
			for b.Loop() {
				if _, err := FromRequest(r, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
