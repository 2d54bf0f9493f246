package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gopaste/gopaste/auth"
)

// An application reads the user an auth filter put in the context.
func ExampleUser() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := auth.User(r.Context()); u != "" {
			fmt.Fprintf(w, "hello, %s", u)
			return
		}
		fmt.Fprint(w, "hello, stranger")
	})
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), "alice")))
	fmt.Println(w.Body)
	// Output: hello, alice
}
