package example

import (
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("count", countFactory, "numbers the requests in a response header, across reloads (an example)")
}

// countFactory builds the count filter: each response gets the number of
// requests the section has seen, in the header the "header" key names.
// The counter is kept with registry.Shared, so a reload (which builds the
// new generation before it closes the old one) keeps counting.
func countFactory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	header := http.CanonicalHeaderKey(c.String("header", "X-Count"))
	if header == "" {
		c.Errorf("header", "must not be empty")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	n, err := registry.Shared(c, "count", func() (*atomic.Int64, error) {
		return new(atomic.Int64), nil
	})
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(header, strconv.FormatInt(n.Add(1), 10))
			next.ServeHTTP(w, r)
		})
	}, nil
}
