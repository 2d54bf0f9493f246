package session_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gopaste/gopaste/session"
	"github.com/gopaste/gopaste/session/memstore"
)

func ExampleFrom() {
	store := memstore.New(memstore.Options{})
	defer store.Close()
	m, err := session.New(session.Options{Store: store})
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		n := s.GetInt("visits") + 1
		s.Put("visits", n)
		fmt.Fprintf(w, "visit %d", n)
	}))

	var cookie *http.Cookie
	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		if cookie != nil {
			r.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cookie = w.Result().Cookies()[0]
		fmt.Println(w.Body.String())
	}
	// Output:
	// visit 1
	// visit 2
	// visit 3
}
