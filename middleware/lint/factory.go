package lint

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("lint", factory,
		"check the handler contract at run time and log each violation", "egg:Paste#lint")
}

// factory reads: strict (bool, default false).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	o := Options{
		Strict: c.Bool("strict", false),
		Logger: c.Logger,
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return New(o), nil
}
