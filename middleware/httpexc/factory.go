package httpexc

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("httpexceptions", factory,
		"render HTTP error values (NotFound, Redirect, ...) that handlers panic with or return",
		"egg:Paste#httpexceptions")
}

var formats = map[string]Format{"auto": Auto, "html": HTML, "json": JSON, "text": Text}

// factory reads: format = auto | html | json | text (default auto).
func factory(c *registry.Config) (func(http.Handler) http.Handler, error) {
	f := formats[c.OneOf("format", "auto", "auto", "html", "json", "text")]
	if err := c.Err(); err != nil {
		return nil, err
	}
	return New(Options{Format: f, Logger: c.Logger})
}
