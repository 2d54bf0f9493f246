package httpexc

import (
	"net/http"

	"github.com/gopaste/gopaste/registry"
)

func init() {
	registry.RegisterFilter("httpexceptions", factory,
		"render HTTP error values (NotFound, Redirect, ...) that handlers panic with or return",
		"egg:Paste#httpexceptions")
	registry.RegisterApp("fail", failFactory,
		"fail every request: panic with a message, or with an HTTP error of a status (to try error filters)")
}

// failFactory reads: message ("deliberate failure"), status (none: a
// plain panic; 300..599: an HTTP error), location (for 3xx; required then).
func failFactory(c *registry.Config) (http.Handler, error) {
	msg := c.String("message", "")
	status := c.Int("status", 0)
	loc := c.String("location", "")
	if status >= 300 && status < 400 && loc == "" {
		c.Errorf("location", "is required with a 3xx status")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	h, err := Fail(msg, status, loc)
	if err != nil {
		return nil, c.Errorf("status", "%v", err)
	}
	return h, nil
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
