package rewrite_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gopaste/gopaste/middleware/rewrite"
)

func ExampleNew() {
	moved, _ := rewrite.ParseRule(`^/old/(.*)$ /new/$1 301`, 0)
	internal, _ := rewrite.ParseRule(`^/p/(\d+)$ /page?id=$1`, 0)
	mw, err := rewrite.New(rewrite.Options{Rules: []rewrite.Rule{moved, internal}})
	if err != nil {
		panic(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.URL)
	}))
	for _, target := range []string{"/old/a?x=1", "/p/42"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if loc := w.Header().Get("Location"); loc != "" {
			fmt.Println(w.Code, "redirect to", loc)
		} else {
			fmt.Println(w.Code, "app saw", w.Body)
		}
	}
	// Output:
	// 301 redirect to /new/a?x=1
	// 200 app saw /page?id=42
}
