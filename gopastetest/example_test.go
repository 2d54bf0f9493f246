package gopastetest_test

import (
	"fmt"
	"html/template"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/gopaste/gopaste/gopastetest"
)

// guestbook is the application under test: a page listing messages with a
// form that posts a new one and redirects back.
func guestbook() http.Handler {
	var mu sync.Mutex
	var entries []string
	page := template.Must(template.New("").Parse(`<html><body>
{{range .}}<p>{{.}}</p>{{end}}
<form id="sign" method="post" action="/sign">
  <input name="name"> <textarea name="message"></textarea>
  <button type="submit">Sign</button>
</form></body></html>`))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, entries)
	})
	mux.HandleFunc("POST /sign", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("name") == "" {
			http.Error(w, "a name, please", http.StatusBadRequest)
			return
		}
		mu.Lock()
		entries = append(entries, r.FormValue("name")+": "+r.FormValue("message"))
		mu.Unlock()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	return mux
}

// TestGuestbook is how an application's test reads with gopastetest.
func TestGuestbook(t *testing.T) {
	app := gopastetest.New(t, guestbook())
	app.Lint = true // every response is checked against the handler contract
	app.Get("/").MustStatus(200).
		Form("sign").Set("name", "Ann").Set("message", "Hi!").Submit().
		MustStatus(303).FollowRedirect().MustContain("Ann: Hi!")
	app.PostForm("/sign", nil).MustStatus(400).MustContain("a name, please")
}

// printTB reports failures on stdout, so that the example's output shows
// them. In a test, pass the *testing.T instead.
type printTB struct{}

func (printTB) Helper()                           {}
func (printTB) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }
func (printTB) Fatalf(format string, args ...any) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	os.Exit(1)
}
func (printTB) Cleanup(func()) {}

func Example() {
	app := gopastetest.New(printTB{}, guestbook()) // in a test: gopastetest.New(t, handler)

	form := app.Get("/").MustStatus(200).Form("sign")
	fmt.Println(form.Method, form.Action)

	resp := form.Set("name", "Ann").Set("message", "Hello").Submit()
	fmt.Println(resp.Status, resp.Header.Get("Location"))

	page := resp.FollowRedirect().MustContain("Ann: Hello")
	fmt.Println(page.Status)

	// With FollowRedirects, a request returns the end of the chain.
	app.FollowRedirects = true
	fmt.Println(app.PostForm("/sign", map[string][]string{"name": {"Bob"}}).Status)
	// Output:
	// POST /sign
	// 303 /
	// 200
	// 200
}
