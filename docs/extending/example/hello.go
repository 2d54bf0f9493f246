package example

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gopaste/gopaste/registry"
	"github.com/gopaste/gopaste/session"
)

func init() {
	registry.RegisterApp("hello", helloFactory, "greets the visitor and counts their visits (an example)")
}

// Hello greets the visitor named by the path ("/ann": "Hello, ann!") and,
// behind a session filter, counts their visits in the session.
type Hello struct {
	Greeting string
}

func (h Hello) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	visits := 0
	if s := session.From(r.Context()); s != nil {
		visits = s.GetInt("visits") + 1
		if err := s.Put("visits", visits); err != nil {
			http.Error(w, "session: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	name := strings.Trim(r.URL.Path, "/")
	if name == "" {
		name = "world"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "%s, %s! visit %d\n", h.Greeting, name, visits)
}

// helloFactory reads the section's keys, validates them and builds the
// app; it starts nothing. Getter errors are kept in c and returned
// together by c.Err, each naming the file, section and key.
func helloFactory(c *registry.Config) (http.Handler, error) {
	h := Hello{Greeting: c.String("greeting", "Hello")}
	if strings.TrimSpace(h.Greeting) == "" {
		c.Errorf("greeting", "must not be empty")
	}
	return h, c.Err()
}
