package wiretest

import "net/http"

// BrowserHeader returns the request headers a desktop browser sends for
// a page (a fresh map each call), for benchmarks that compare a request
// as wrk sends it (Host only) with a realistic one.
func BrowserHeader() http.Header {
	return http.Header{
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		"Accept":          {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
		"Accept-Language": {"en-GB,en;q=0.5"},
		"Accept-Encoding": {"gzip, deflate, br, zstd"},
		"Cookie":          {"PHPSESSID=0123456789abcdef0123456789"},
		"Referer":         {"http://localhost:8080/"},
	}
}
