package validate

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("validate", factory,
		"debug aid: check that HTML responses' tags balance; log problems and append them as a comment")
}

// factory reads: max_bytes (size, default 1M).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{MaxBytes: c.Size("max_bytes", 1<<20), Logger: c.Logger}
	if o.MaxBytes <= 0 {
		c.Errorf("max_bytes", "must be more than 0")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return New(o), nil
}
