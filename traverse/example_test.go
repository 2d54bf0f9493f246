package traverse_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gopaste/gopaste/traverse"
)

// get serves one GET and prints the status, the Location if any, and
// the body.
func get(h http.Handler, target string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
	fmt.Print(w.Code, " ", w.Header().Get("Location"), strings.TrimSpace(w.Body.String()), "\n")
}

// A Dir resolves components through its Exports, then its Lookup; a
// sub-directory reached without its trailing slash is redirected to it.
func ExampleDir() {
	users := &traverse.Dir{
		Exports: map[string]http.Handler{"": text("all users")},
		Lookup: func(r *http.Request, name string) http.Handler {
			if name != "alice" && name != "bob" {
				return nil // 404
			}
			return text("the page of " + name)
		},
	}
	root := &traverse.Dir{Exports: map[string]http.Handler{
		"":      text("home"),
		"users": traverse.Handler(users),
	}}
	h := traverse.Handler(root)
	get(h, "/")
	get(h, "/users")
	get(h, "/users/")
	get(h, "/users/alice")
	get(h, "/users/carol")
	// Output:
	// 200 home
	// 301 /users/
	// 200 all users
	// 200 the page of alice
	// 404 404 page not found
}

// Access is checked before anything below a directory is served; a
// LoginRedirect sends the user to the login page and back.
func ExampleDir_access() {
	admin := &traverse.Dir{
		Exports: map[string]http.Handler{"": text("admin")},
		Access: func(r *http.Request) error {
			if _, err := r.Cookie("user"); err != nil {
				return traverse.LoginRedirect(r, "/login")
			}
			return nil
		},
	}
	h := traverse.Handler(&traverse.Dir{Exports: map[string]http.Handler{"admin": traverse.Handler(admin)}})
	get(h, "/admin/?tab=users")
	// Output:
	// 303 /login?came_from=%2Fadmin%2F%3Ftab%3Dusers<a href="/login?came_from=%2Fadmin%2F%3Ftab%3Dusers">See Other</a>.
}

// Framed wraps every page below it in a header and a footer by
// overriding Traverse; redirects and errors pass unframed.
type Framed struct {
	traverse.Dir
}

func (f *Framed) Traverse(w http.ResponseWriter, r *http.Request, components []string) {
	fw := &frameWriter{ResponseWriter: w}
	f.Dir.Traverse(fw, r, components)
	if fw.framed {
		io.WriteString(w, "</main><footer>the end</footer>")
	}
}

// frameWriter writes the header before the first byte of a 200 body.
type frameWriter struct {
	http.ResponseWriter
	code   int
	framed bool
}

func (fw *frameWriter) WriteHeader(code int) {
	if fw.code == 0 {
		fw.code = code
	}
	fw.ResponseWriter.WriteHeader(code)
}

func (fw *frameWriter) Write(b []byte) (int, error) {
	if fw.code == 0 {
		fw.code = http.StatusOK
	}
	if fw.code == http.StatusOK && !fw.framed {
		fw.framed = true
		io.WriteString(fw.ResponseWriter, "<header>my site</header><main>")
	}
	return fw.ResponseWriter.Write(b)
}

func (fw *frameWriter) Unwrap() http.ResponseWriter { return fw.ResponseWriter }

func Example_headerFooter() {
	site := &Framed{traverse.Dir{Exports: map[string]http.Handler{
		"":      text("<p>home</p>"),
		"about": text("<p>about</p>"),
	}}}
	h := traverse.Handler(site)
	get(h, "/")
	get(h, "/about")
	get(h, "/nope")
	// Output:
	// 200 <header>my site</header><main><p>home</p></main><footer>the end</footer>
	// 200 <header>my site</header><main><p>about</p></main><footer>the end</footer>
	// 404 404 page not found
}

// Members diverts every request below it to a login form, in place and
// without a redirect, until the visitor has a user cookie.
type Members struct {
	traverse.Dir
}

func (m *Members) Traverse(w http.ResponseWriter, r *http.Request, components []string) {
	if _, err := r.Cookie("user"); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `<form method="post" action="/login">...</form>`)
		return
	}
	m.Dir.Traverse(w, r, components)
}

func Example_loginDiversion() {
	h := traverse.Handler(&Members{traverse.Dir{Exports: map[string]http.Handler{"": text("members only")}}})
	get(h, "/")
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "user", Value: "alice"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body)
	// Output:
	// 401 <form method="post" action="/login">...</form>
	// 200 members only
}

// Mount serves another handler below a component as if it were mounted
// there: it sees the rest of the path.
func ExampleMount() {
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "file %s", r.URL.Path)
	})
	h := traverse.Handler(&traverse.Dir{Exports: map[string]http.Handler{"static": traverse.Mount(files)}})
	get(h, "/static/css/site.css")
	// Output:
	// 200 file /css/site.css
}
